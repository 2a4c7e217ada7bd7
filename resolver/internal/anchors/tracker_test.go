package anchors

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestLifecycle walks one zone through RFC 5011's state table with a
// moving clock: bootstrap from a DS, a new key's add hold-down (broken off
// once, then completed), a missing key, a forged and a real revocation,
// and the remove hold-down.
func TestLifecycle(t *testing.T) {
	file := filepath.Join(t.TempDir(), "root.json")
	a := newTestKey(t, ".", 257)
	b := newTestKey(t, ".", 257)
	zsk := newTestKey(t, ".", 256)
	e := newEnv(t, ".", dsSet(t, a), file)

	// Bootstrap: the DS is all there is to trust.
	ds, keys := e.tr.Trusted().For(".")
	if len(ds) != 1 || ds[0].KeyTag != a.tag() || len(keys) != 0 {
		t.Fatalf("before any RRset, Trusted = %v %v; want A's DS", ds, keys)
	}
	if len(e.tr.State()) != 0 {
		t.Errorf("State() = %v before any RRset", e.tr.State())
	}

	// The first validated RRset: A matches the DS and is Valid at once,
	// trusted as a DNSKEY from now on. The ZSK is not tracked.
	e.mustObserve(set(a, zsk), a)
	e.wantState(a, Valid)
	e.wantNoState(zsk)
	e.wantTrusted(a)

	// B appears: AddPend, not trusted.
	e.clock.advance(day)
	e.mustObserve(set(a, b, zsk), a)
	e.wantState(b, AddPend)
	e.wantTrusted(a)

	// B disappears before its hold-down ends: back to Start.
	e.clock.advance(10 * day)
	e.mustObserve(set(a, zsk), a)
	e.wantState(b, Start)
	e.wantTrusted(a)

	// B returns: AddPend again, the 30 days counting from now.
	e.clock.advance(day)
	e.mustObserve(set(a, b, zsk), a)
	e.wantState(b, AddPend)
	returned := e.clock.now()
	for e.clock.now().Before(returned.Add(AddHoldDown - 5*day)) {
		e.clock.advance(5 * day) // present in every validated RRset meanwhile
		e.mustObserve(set(a, b, zsk), a)
		e.wantState(b, AddPend)
		e.wantTrusted(a)
	}
	e.clock.advance(returned.Add(AddHoldDown - time.Second).Sub(e.clock.now()))
	e.mustObserve(set(a, b, zsk), a)
	e.wantState(b, AddPend) // a second short
	e.clock.advance(time.Second)
	e.mustObserve(set(a, b, zsk), a)
	e.wantState(b, Valid)
	e.wantTrusted(a, b)

	// A missing but not revoked: Missing and still trusted; back, Valid.
	e.clock.advance(day)
	e.mustObserve(set(b, zsk), b)
	e.wantState(a, Missing)
	e.wantTrusted(a, b)
	e.clock.advance(day)
	e.mustObserve(set(a, b, zsk), b)
	e.wantState(a, Valid)
	e.wantTrusted(a, b)

	// A forged revocation: A's revoked form with an RRSIG that claims to be
	// by it but is made with another private key. Not a revocation: the
	// unrevoked A is merely absent, so Missing and still trusted.
	e.clock.advance(day)
	forger := &testKey{key: a.revoked().key, priv: newTestKey(t, ".", 257).priv}
	e.mustObserve(set(forger, b, zsk), b, forger)
	e.wantState(a, Missing)
	e.wantNoState(a.revoked())
	e.wantTrusted(a, b)

	// The real revocation: A's revoked form signing the RRset. Revoked,
	// listed under the revoked form's tag, never trusted again.
	e.clock.advance(day)
	revokedAt := e.clock.now()
	e.mustObserve(set(a.revoked(), b, zsk), b, a.revoked())
	e.wantState(a.revoked(), Revoked)
	e.wantNoState(a)
	e.wantTrusted(b)

	// A published again without its REVOKE flag (as an attacker holding
	// its private key might): still revoked, not a new key.
	e.clock.advance(day)
	e.mustObserve(set(a, b, zsk), b, a)
	e.wantState(a.revoked(), Revoked)
	e.wantNoState(a)
	e.wantTrusted(b)

	// The remove hold-down: Revoked until 30 days after the revocation
	// was first seen, then Removed, out of the state file at once and
	// forgotten when the zone stops publishing it.
	e.clock.advance(revokedAt.Add(RemoveHoldDown - time.Second).Sub(e.clock.now()))
	e.mustObserve(set(a.revoked(), b, zsk), b, a.revoked())
	e.wantState(a.revoked(), Revoked)
	e.clock.advance(time.Second)
	e.mustObserve(set(a.revoked(), b, zsk), b, a.revoked())
	e.wantState(a.revoked(), Removed)
	e.wantTrusted(b)
	if data, err := os.ReadFile(file); err != nil {
		t.Fatal(err)
	} else if strings.Contains(string(data), a.key.PublicKey) {
		t.Errorf("state file still has the removed key:\n%s", data)
	}
	e.clock.advance(day)
	e.mustObserve(set(b, zsk), b)
	e.wantNoState(a.revoked())
	if got := len(e.tr.State()); got != 1 {
		t.Errorf("State() = %v, want B only", e.tr.State())
	}
	e.wantTrusted(b)
}

// TestFlagsChange: a trusted key republished with other flags (its SEP
// flag dropped) stays trusted, and is handed out as now published.
func TestFlagsChange(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a), "")
	zskForm := &testKey{key: dns.Copy(a.key).(*dns.DNSKEY), priv: a.priv}
	zskForm.key.Flags = 256
	e.mustObserve(set(zskForm), zskForm)
	e.wantState(zskForm, Valid)
	e.wantTrusted(zskForm)
}

// TestStartForgotten: a key that fell back to Start is forgotten after
// the remove hold-down without being seen.
func TestStartForgotten(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	b := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a), "")
	e.mustObserve(set(a, b), a)
	e.clock.advance(day)
	e.mustObserve(set(a), a)
	e.wantState(b, Start)
	e.clock.advance(RemoveHoldDown)
	e.mustObserve(set(a), a)
	e.wantNoState(b)
}

// TestDNSKEYAnchor: a DNSKEY anchor is Valid and trusted from the start.
func TestDNSKEYAnchor(t *testing.T) {
	a := newTestKey(t, "Example.", 257)
	e := newEnv(t, "EXAMPLE", keySet(t, a), "")
	if e.tr.Zone() != "example." {
		t.Errorf("Zone() = %q", e.tr.Zone())
	}
	e.zone = "example."
	e.wantState(a, Valid)
	e.wantTrusted(a)
	e.mustObserve(set(a), a)
	e.wantState(a, Valid)
}

// TestAddHoldDownOrigTTL: the add hold-down is the RRset's original TTL
// when that is longer than 30 days (section 2.4.1).
func TestAddHoldDownOrigTTL(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	b := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a), "")
	long := sigParams{origTTL: uint32((40 * day).Seconds()), valid: 50 * day}
	keys, sigs := signSet(t, e.clock.now(), long, set(a, b), a)
	if err := e.tr.Observe(keys, sigs); err != nil {
		t.Fatal(err)
	}
	for _, k := range e.tr.Keys() {
		if k.Tag == b.tag() {
			if want := e.clock.now().Add(40 * day); !k.AcceptAt.Equal(want) || k.State != AddPend {
				t.Errorf("B: %s, accept at %v; want addpend, %v", k.State, k.AcceptAt, want)
			}
		}
	}
}

// TestVouchersRevoked: a pending key whose only voucher is revoked before
// its hold-down ends starts its hold-down over (section 2.2).
func TestVouchersRevoked(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	c := newTestKey(t, "example.", 257)
	b := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a, c), "")
	e.mustObserve(set(a, b, c), a) // only A vouches for B
	e.clock.advance(20 * day)
	e.mustObserve(set(a.revoked(), b, c), a.revoked(), c)
	e.wantState(a.revoked(), Revoked)
	e.wantState(b, AddPend)
	e.clock.advance(10 * day) // 30 days after B appeared, but only 10 after the reset
	e.mustObserve(set(b, c), c)
	e.wantState(b, AddPend)
	e.clock.advance(20 * day)
	e.mustObserve(set(b, c), c)
	e.wantState(b, Valid)
	e.wantTrusted(b, c)
}

// TestRevokeOnlyKey: a zone revoking its only key. The RRset does not
// validate any more (its only signature is by the revoked form), but the
// self-signed revocation still counts, and the trust point is deleted
// (section 5): Trusted is empty.
func TestRevokeOnlyKey(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a), "")
	err := e.observe(set(a.revoked()), a.revoked())
	if !errors.Is(err, ErrNotValidated) {
		t.Errorf("Observe = %v, want ErrNotValidated", err)
	}
	e.wantState(a.revoked(), Revoked)
	if n := e.tr.Trusted().Len(); n != 0 {
		t.Errorf("Trusted has %d anchors, want none", n)
	}
}

// TestNotValidated: an RRset without a valid signature by a trusted key
// changes nothing: signed by an unknown key, by a trusted key but expired
// or not yet valid, by no one, or a bad signature.
func TestNotValidated(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	x := newTestKey(t, "example.", 257)
	for _, c := range []struct {
		name string
		make func(now time.Time) ([]*dns.DNSKEY, []*dns.RRSIG)
	}{
		{"signed by an unknown key", func(now time.Time) ([]*dns.DNSKEY, []*dns.RRSIG) {
			return signSet(t, now, defaultSig, set(x), x)
		}},
		{"expired", func(now time.Time) ([]*dns.DNSKEY, []*dns.RRSIG) {
			return signSet(t, now.Add(-20*day), defaultSig, set(x), a)
		}},
		{"not yet valid", func(now time.Time) ([]*dns.DNSKEY, []*dns.RRSIG) {
			return signSet(t, now.Add(2*time.Hour), defaultSig, set(x), a)
		}},
		{"unsigned", func(now time.Time) ([]*dns.DNSKEY, []*dns.RRSIG) {
			return signSet(t, now, defaultSig, set(x))
		}},
		{"signature over another RRset", func(now time.Time) ([]*dns.DNSKEY, []*dns.RRSIG) {
			_, sigs := signSet(t, now, defaultSig, set(a), a)
			keys, _ := signSet(t, now, defaultSig, set(a, x))
			return keys, sigs
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "state.json")
			e := newEnv(t, "example.", keySet(t, a), file)
			keys, sigs := c.make(e.clock.now())
			if err := e.tr.Observe(keys, sigs); !errors.Is(err, ErrNotValidated) {
				t.Errorf("Observe = %v, want ErrNotValidated", err)
			}
			e.wantNoState(x)
			e.wantState(a, Valid)
			if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state file written for an unvalidated RRset: %v", err)
			}
			if !e.tr.NextRefresh().Equal(e.clock.now()) {
				t.Error("an unvalidated RRset restarted the refresh timer")
			}
		})
	}
}

// TestBootstrapWrongDS: a DS anchor that matches no published key
// validates nothing.
func TestBootstrapWrongDS(t *testing.T) {
	a := newTestKey(t, ".", 257)
	other := newTestKey(t, ".", 257)
	e := newEnv(t, ".", dsSet(t, other), "")
	if err := e.observe(set(a), a); !errors.Is(err, ErrNotValidated) {
		t.Errorf("Observe = %v, want ErrNotValidated", err)
	}
	if ds, _ := e.tr.Trusted().For("."); len(ds) != 1 {
		t.Errorf("the DS anchor was dropped: %v", ds)
	}
}

// TestBootstrapTwoDS: with both IANA-style DS anchors published, both keys
// are Valid after the first RRset even if only one signs it.
func TestBootstrapTwoDS(t *testing.T) {
	a := newTestKey(t, ".", 257)
	b := newTestKey(t, ".", 257)
	e := newEnv(t, ".", dsSet(t, a, b), "")
	e.mustObserve(set(a, b), a)
	e.wantState(a, Valid)
	e.wantState(b, Valid)
	e.wantTrusted(a, b)
}

func TestNewTrackerErrors(t *testing.T) {
	if _, err := NewTracker("example.", IANARoot(), "", nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("NewTracker without anchors for the zone = %v, want ErrEmpty", err)
	}
	if _, err := NewTracker("a..b", IANARoot(), "", nil); err == nil {
		t.Error("NewTracker with a bad zone name succeeded")
	}
	tr, err := NewTracker(".", IANARoot(), "", nil) // nil clock: time.Now
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tr.NextRefresh()); d > time.Second || d < -time.Second {
		t.Errorf("NextRefresh with the real clock is %v from now", d)
	}
}

// TestConcurrent runs Trusted, State, NextRefresh and Observe at once, for
// the race detector.
func TestConcurrent(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	b := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a), filepath.Join(t.TempDir(), "state.json"))
	keysAB, sigsAB := signSet(t, e.clock.now(), defaultSig, set(a, b), a)
	keysA, sigsA := signSet(t, e.clock.now(), defaultSig, set(a), a)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				switch (i + j) % 4 {
				case 0:
					if err := e.tr.Observe(keysAB, sigsAB); err != nil {
						t.Error(err)
					}
				case 1:
					if err := e.tr.Observe(keysA, sigsA); err != nil {
						t.Error(err)
					}
				case 2:
					if _, keys := e.tr.Trusted().For("example."); len(keys) != 1 {
						t.Errorf("Trusted = %v", keys)
					}
					e.tr.Failed()
				case 3:
					_ = e.tr.State()
					_ = e.tr.Keys()
					_ = e.tr.NextRefresh()
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyStateText(t *testing.T) {
	for s, want := range map[KeyState]string{Start: "start", AddPend: "addpend", Valid: "valid", Missing: "missing", Revoked: "revoked", Removed: "removed"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
		var back KeyState
		if text, err := s.MarshalText(); err != nil || back.UnmarshalText(text) != nil || back != s {
			t.Errorf("%s does not round-trip through text: %q, %v", s, text, err)
		}
	}
	if got := KeyState(9).String(); got != "KeyState(9)" {
		t.Errorf("KeyState(9).String() = %q", got)
	}
	if _, err := KeyState(9).MarshalText(); err == nil {
		t.Error("KeyState(9) marshalled")
	}
	var s KeyState
	if err := s.UnmarshalText([]byte("VALID")); err == nil {
		t.Error(`"VALID" unmarshalled`)
	}
	// State's tie-break between keys sharing a tag: the more trusted wins.
	order := []KeyState{Removed, Revoked, Start, AddPend, Missing, Valid}
	for i := 1; i < len(order); i++ {
		if rank(order[i-1]) >= rank(order[i]) {
			t.Errorf("rank(%s) >= rank(%s)", order[i-1], order[i])
		}
	}
}
