// Package selection is the resolver's infrastructure cache: what it knows
// of each upstream server (smoothed RTT, timeouts in a row, zones it is
// lame for, whether it echoes 0x20 case and takes EDNS) and the order in
// which a zone's servers are tried. Compare Unbound's infra cache and
// BIND's SRTT. A Table is safe for concurrent use.
package selection

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// The infrastructure cache's settings (compare Unbound's infra cache and
// BIND's SRTT).
const (
	// UnknownRTO is the timeout for a server never heard from (Unbound
	// uses 376 ms).
	UnknownRTO = 400 * time.Millisecond
	// MinRTO and MaxRTO bound the timeout learned from a server's RTTs.
	MinRTO = 60 * time.Millisecond
	MaxRTO = 2 * time.Second
	// DownAfter timeouts in a row put a server aside for a while, starting
	// at downBackoff and doubling up to maxDownBackoff.
	DownAfter      = 3
	downBackoff    = 2 * time.Second
	maxDownBackoff = 2 * time.Minute
	// lameTTL is how long a server stays known as lame for a zone (as
	// Unbound's infra-lame-ttl).
	lameTTL = 15 * time.Minute
	// quirkTTL is how long a server stays known not to echo the question's
	// case, or not to take EDNS.
	quirkTTL = 15 * time.Minute
	// unknownSRTT is the smoothed RTT a server never heard from counts
	// with: behind servers known to answer fast, ahead of slow ones.
	unknownSRTT = UnknownRTO / 4
	// exploreOneIn: one choice in this many skips the fastest server to
	// measure another, so a server that got faster is noticed.
	exploreOneIn = 20
	// maxInfraEntries bounds the number of servers remembered.
	maxInfraEntries = 10_000
)

// Table remembers how each server address has behaved: the smoothed RTT
// and its variation (RFC 6298 section 2), timeouts in a row, the zones for
// which it was lame, and whether it echoes 0x20 case and takes EDNS. It is
// safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	servers map[netip.Addr]*serverInfo
}

type serverInfo struct {
	srtt, rttvar time.Duration
	measured     bool
	timeouts     int       // in a row
	downUntil    time.Time // set aside after DownAfter timeouts in a row
	lame         map[string]time.Time
	noCaseUntil  time.Time // does not echo the question's case (0x20)
	noEDNSUntil  time.Time // answers FORMERR to EDNS
	used         time.Time
}

func New() *Table { return &Table{servers: make(map[netip.Addr]*serverInfo)} }

// get returns a's entry, creating it (and making room) if needed. The
// caller holds mu.
func (in *Table) get(a netip.Addr, now time.Time) *serverInfo {
	s, ok := in.servers[a]
	if !ok {
		if len(in.servers) >= maxInfraEntries {
			in.evict()
		}
		s = &serverInfo{}
		in.servers[a] = s
	}
	s.used = now
	return s
}

// evict drops the least recently used tenth of the entries. The caller
// holds mu.
func (in *Table) evict() {
	type aged struct {
		a    netip.Addr
		used time.Time
	}
	all := make([]aged, 0, len(in.servers))
	for a, s := range in.servers {
		all = append(all, aged{a, s.used})
	}
	slices.SortFunc(all, func(x, y aged) int { return x.used.Compare(y.used) })
	for _, e := range all[:len(all)/10+1] {
		delete(in.servers, e.a)
	}
}

// timeout is how long to wait for a: the learned RTO, doubled for each
// timeout in a row (RFC 6298 section 5.5).
func (in *Table) Timeout(a netip.Addr, now time.Time) time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.get(a, now)
	rto := UnknownRTO
	if s.measured {
		rto = min(max(s.srtt+4*s.rttvar, MinRTO), MaxRTO)
	}
	for range min(s.timeouts, 4) {
		rto *= 2
	}
	return min(rto, MaxRTO)
}

// reply records an answer from a after rtt.
func (in *Table) Reply(a netip.Addr, rtt time.Duration, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.get(a, now)
	if !s.measured {
		s.srtt, s.rttvar, s.measured = rtt, rtt/2, true
	} else {
		diff := s.srtt - rtt
		if diff < 0 {
			diff = -diff
		}
		s.rttvar = (3*s.rttvar + diff) / 4
		s.srtt = (7*s.srtt + rtt) / 8
	}
	s.timeouts = 0
	s.downUntil = time.Time{}
}

// timedOut records that a did not answer within rto. Its smoothed RTT is
// raised to rto, so that it sorts after servers that answer; after
// DownAfter timeouts in a row it is set aside, for longer each time.
func (in *Table) TimedOut(a netip.Addr, rto time.Duration, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.get(a, now)
	s.timeouts++
	if !s.measured || s.srtt < rto {
		s.srtt, s.rttvar, s.measured = rto, rto/2, true
	}
	if s.timeouts >= DownAfter {
		backoff := downBackoff << min(s.timeouts-DownAfter, 6)
		s.downUntil = now.Add(min(backoff, maxDownBackoff))
	}
}

// markLame records that a is lame for zone.
func (in *Table) MarkLame(a netip.Addr, zone string, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.get(a, now)
	if s.lame == nil {
		s.lame = make(map[string]time.Time)
	}
	s.lame[zone] = now.Add(lameTTL)
}

// quirks reports what is known of a's 0x20 and EDNS behaviour.
func (in *Table) Quirks(a netip.Addr, now time.Time) (noCase, noEDNS bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.get(a, now)
	return now.Before(s.noCaseUntil), now.Before(s.noEDNSUntil)
}

// markNoCase records that a does not echo the question's case.
func (in *Table) MarkNoCase(a netip.Addr, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.get(a, now).noCaseUntil = now.Add(quirkTTL)
}

// markNoEDNS records that a answers FORMERR to EDNS queries.
func (in *Table) MarkNoEDNS(a netip.Addr, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.get(a, now).noEDNSUntil = now.Add(quirkTTL)
}

// Candidate is one address of one server of a zone.
type Candidate struct {
	Server string         // the server's name
	To     netip.AddrPort // where it is asked
	// Avoid is why Order put the candidate last: "lame", "down", or "".
	Avoid string
}

// Order sorts the candidates for zone best first: servers neither lame
// for the zone nor set aside, by smoothed RTT (a server never heard from
// counts as unknownSRTT: after servers known to be fast, before slow ones;
// IPv6 after IPv4 at equal RTT, so an IPv4 path is never slowed by
// untried IPv6); now and then (one in exploreOneIn) another usable server
// goes first, to be measured (again). Avoided candidates come last, in the same order, and are only
// asked when nothing else is left.
func (in *Table) Order(cands []Candidate, zone string, now time.Time, randIntN func(int) int) {
	if len(cands) == 0 {
		return
	}
	in.mu.Lock()
	srtt := make(map[netip.Addr]time.Duration, len(cands))
	measured := make(map[netip.Addr]bool, len(cands))
	for i := range cands {
		c := &cands[i]
		s := in.get(c.To.Addr(), now)
		c.Avoid = ""
		switch {
		case now.Before(s.lame[zone]):
			c.Avoid = "lame"
		case now.Before(s.downUntil):
			c.Avoid = "down"
		}
		if s.measured {
			srtt[c.To.Addr()] = s.srtt
			measured[c.To.Addr()] = true
		} else {
			srtt[c.To.Addr()] = unknownSRTT
		}
	}
	in.mu.Unlock()
	slices.SortStableFunc(cands, func(x, y Candidate) int {
		if (x.Avoid == "") != (y.Avoid == "") {
			if x.Avoid == "" {
				return -1
			}
			return 1
		}
		if d := srtt[x.To.Addr()] - srtt[y.To.Addr()]; d != 0 {
			return int(d)
		}
		if x.To.Addr().Is4() != y.To.Addr().Is4() {
			if x.To.Addr().Is4() {
				return -1
			}
			return 1
		}
		return 0
	})
	// Explore among the other usable servers but untried IPv6 ones: an
	// untried IPv6 address must never get ahead of a working IPv4 one by
	// chance (it is asked when IPv4 fails).
	var others []int
	for i := 1; i < len(cands) && cands[i].Avoid == ""; i++ {
		if a := cands[i].To.Addr(); measured[a] || a.Is4() {
			others = append(others, i)
		}
	}
	if len(others) > 0 && randIntN(exploreOneIn) == 0 {
		i := others[randIntN(len(others))]
		cands[0], cands[i] = cands[i], cands[0]
	}
}

// State is what the table knows of one server address, for people
// (the admin API's /servers).
type State struct {
	Addr      netip.Addr
	SRTT      time.Duration // smoothed RTT; 0 until measured
	RTTVar    time.Duration
	Timeouts  int  // in a row
	Down      bool // set aside after DownAfter timeouts in a row
	LameZones int  // zones it is lame for now
	Idle      time.Duration
}

// States returns the servers the table knows, most recently used first,
// at most limit of them.
func (in *Table) States(now time.Time, limit int) []State {
	in.mu.Lock()
	out := make([]State, 0, len(in.servers))
	for a, s := range in.servers {
		st := State{Addr: a, SRTT: s.srtt, RTTVar: s.rttvar, Timeouts: s.timeouts, Down: now.Before(s.downUntil), Idle: now.Sub(s.used)}
		for _, until := range s.lame {
			if now.Before(until) {
				st.LameZones++
			}
		}
		out = append(out, st)
	}
	in.mu.Unlock()
	slices.SortFunc(out, func(x, y State) int {
		if c := cmp.Compare(x.Idle, y.Idle); c != 0 {
			return c
		}
		return x.Addr.Compare(y.Addr)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
