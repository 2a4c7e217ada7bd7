package cache

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// fileFormat and fileVersion head a cache file; Load refuses others.
const (
	fileFormat  = "rootwalk-cache"
	fileVersion = 1
)

// fileHeader is a cache file's first line.
type fileHeader struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Saved   time.Time `json:"saved"`
	Entries int       `json:"entries"`
}

// fileEntry is one entry as a line of a cache file. Times are absolute, so
// the time that passed between Save and Load counts against the TTLs.
type fileEntry struct {
	Kind    string    `json:"kind"`
	Name    string    `json:"name"`
	Type    uint16    `json:"type,omitempty"`
	Class   uint16    `json:"class"`
	DO      bool      `json:"do,omitempty"`
	CD      bool      `json:"cd,omitempty"`
	Trust   Trust     `json:"trust,omitempty"`
	Stored  time.Time `json:"stored"`
	Expires time.Time `json:"expires"`
	TTL     uint32    `json:"ttl"`
	Used    time.Time `json:"used,omitzero"`
	Msg     []byte    `json:"msg"` // DNS wire format
}

// Save writes every entry still worth keeping at now to w, one JSON
// object a line after a header line, least recently used first so that
// Load restores the order of use.
func (c *Cache) Save(w io.Writer, now time.Time) (int, error) {
	var entries []fileEntry
	for _, s := range []*store{c.msgs, c.rrsets} {
		var packErr error
		s.each(func(k key, e *entry) bool {
			if now.UnixNano() >= e.expires && !s.keep(e, now) {
				return true
			}
			wire, err := e.message().Pack()
			if err != nil {
				packErr = fmt.Errorf("pack %s %s: %w", k.name, dns.TypeToString[k.qtype], err)
				return false
			}
			fe := fileEntry{
				Kind: k.kind.String(), Name: k.name, Type: k.qtype, Class: k.class, DO: k.do, CD: k.cd,
				Trust: e.trust, Stored: time.Unix(0, e.stored).UTC(), Expires: time.Unix(0, e.expires).UTC(), TTL: e.ttl, Msg: wire,
			}
			if e.used != 0 {
				fe.Used = time.Unix(0, e.used).UTC()
			}
			entries = append(entries, fe)
			return true
		})
		if packErr != nil {
			return 0, fmt.Errorf("save cache: %w", packErr)
		}
	}
	slices.SortStableFunc(entries, func(a, b fileEntry) int { return lastUse(a).Compare(lastUse(b)) })
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(fileHeader{Format: fileFormat, Version: fileVersion, Saved: now, Entries: len(entries)}); err != nil {
		return 0, fmt.Errorf("save cache: %w", err)
	}
	for i := range entries {
		if err := enc.Encode(&entries[i]); err != nil {
			return 0, fmt.Errorf("save cache: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("save cache: %w", err)
	}
	return len(entries), nil
}

func lastUse(e fileEntry) time.Time {
	if e.Used.After(e.Stored) {
		return e.Used
	}
	return e.Stored
}

// maxFileLine bounds one line of a cache file: an entry's message is at
// most 64 KiB of wire format, a third more in base64.
const maxFileLine = 128 << 10

// Load adds the entries of a file written by Save to the cache, skipping
// those that have expired by now (beyond the stale window), and returns
// how many it loaded and skipped. The TTLs go on counting from when each
// entry was stored, so a restart is warm and never serves a record longer
// than its TTL allowed. On an error the entries read so far stay loaded.
func (c *Cache) Load(r io.Reader, now time.Time) (loaded, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxFileLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return 0, 0, fmt.Errorf("load cache: %w", err)
		}
		return 0, 0, errors.New("load cache: empty file")
	}
	var h fileHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != fileFormat {
		return 0, 0, fmt.Errorf("load cache: line 1: not a %s file", fileFormat)
	}
	if h.Version != fileVersion {
		return 0, 0, fmt.Errorf("load cache: line 1: version %d, want %d", h.Version, fileVersion)
	}
	for line := 2; sc.Scan(); line++ {
		var fe fileEntry
		if err := json.Unmarshal(sc.Bytes(), &fe); err != nil {
			return loaded, skipped, fmt.Errorf("load cache: line %d: %w", line, err)
		}
		ok, err := c.restore(fe, now)
		if err != nil {
			return loaded, skipped, fmt.Errorf("load cache: line %d: %w", line, err)
		}
		if ok {
			loaded++
		} else {
			skipped++
		}
	}
	if err := sc.Err(); err != nil {
		return loaded, skipped, fmt.Errorf("load cache: %w", err)
	}
	return loaded, skipped, nil
}

// restore puts one saved entry back, unless it is past keeping.
func (c *Cache) restore(fe fileEntry, now time.Time) (bool, error) {
	k := key{name: canonical(fe.Name), qtype: fe.Type, class: fe.Class, do: fe.DO, cd: fe.CD}
	s := c.msgs
	switch fe.Kind {
	case kindAnswer.String():
		k.kind = kindAnswer
	case kindNameError.String():
		k.kind = kindNameError
	case kindRRset.String():
		k.kind, s = kindRRset, c.rrsets
	default:
		return false, fmt.Errorf("unknown kind %q", fe.Kind)
	}
	if _, ok := dns.IsDomainName(fe.Name); !ok {
		return false, fmt.Errorf("bad name %q", fe.Name)
	}
	if fe.Trust > TrustAnswerAA || fe.Expires.Before(fe.Stored) {
		return false, fmt.Errorf("%s: bad trust or times", fe.Name)
	}
	m := new(dns.Msg)
	if err := m.Unpack(fe.Msg); err != nil {
		return false, fmt.Errorf("%s: %w", fe.Name, err)
	}
	// The TTL may not outlive what this cache's clamps allow now.
	ttl := min(fe.TTL, seconds(c.opts.MaxTTL))
	expires := fe.Expires
	if limit := fe.Stored.Add(time.Duration(ttl) * time.Second); limit.Before(expires) {
		expires = limit
	}
	e := &entry{answer: m.Answer, ns: m.Ns, extra: m.Extra, rcode: m.Rcode, authoritative: m.Authoritative,
		trust: fe.Trust, stored: fe.Stored.UnixNano(), expires: expires.UnixNano(), ttl: ttl, size: estimateSize(m)}
	if !fe.Used.IsZero() {
		e.used = fe.Used.UnixNano()
	}
	if now.UnixNano() >= e.expires && !s.keep(e, now) {
		return false, nil
	}
	s.put(k, e, now)
	return true, nil
}
