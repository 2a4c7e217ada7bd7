package anchors

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// RFC 5011's timers.
const (
	// AddHoldDown is how long a new key must be in every validated DNSKEY
	// RRset before it is trusted (section 2.4.1): 30 days, or the RRset's
	// original TTL if that is longer. It is what gives a zone operator
	// whose key was stolen time to notice a key the thief added, and to
	// revoke the stolen key, which stops the acceptance (section 2.2).
	AddHoldDown = 30 * 24 * time.Hour

	// RemoveHoldDown is how long a revoked key is remembered after its
	// revocation was first seen, before it is forgotten (section 2.4.2).
	// Forgetting is bookkeeping only: a revoked key is never trusted again
	// whether it is remembered or not. Keys that fell back to Start are
	// forgotten after as long without being seen.
	RemoveHoldDown = 30 * 24 * time.Hour

	// RefreshMin, RefreshMax: the active refresh interval (section 2.3) is
	// half the DNSKEY RRset's original TTL or half the time its RRSIGs have
	// left, whichever is less, but at most RefreshMax, so a change is seen
	// well within an add hold-down, and at least RefreshMin, so the zone's
	// servers are not queried more than once an hour.
	RefreshMin = time.Hour
	RefreshMax = 15 * 24 * time.Hour

	// RetryMin, RetryMax: after a failed fetch, the retry interval
	// (section 2.3) is a tenth of the original TTL or of the RRSIGs'
	// remaining time, whichever is less, between these bounds.
	RetryMin = time.Hour
	RetryMax = 24 * time.Hour
)

// maxVerifications bounds the signature verifications one Observe makes:
// an RRset with many keys sharing a tag and many RRSIGs must not cost
// seconds of CPU (KeyTrap, CVE-2023-50387). A root DNSKEY RRset has two or
// three RRSIGs; 32 leaves room for a roll with several keys in flight.
const maxVerifications = 32

// ErrNotValidated is returned by Observe when no trusted key's valid
// signature covers the DNSKEY RRset: only self-signed revocations, which
// need no other authentication, were applied.
var ErrNotValidated = errors.New("DNSKEY RRset is not signed by a trusted key")

// Tracker keeps one zone's trust anchors current by RFC 5011, from the
// DNSKEY RRsets the validator hands it, and saves them in a state file.
// It is safe for concurrent use.
//
// Each key it has seen is in one of RFC 5011's states (section 4, see
// KeyState). A new SEP key in a validated DNSKEY RRset goes AddPend and
// becomes Valid after the add hold-down if it was in every validated RRset
// since; one absent before then goes back to Start. A Valid key absent
// from an RRset goes Missing, still trusted, and Valid again when it
// returns. A key that signs the RRset with its REVOKE flag set goes
// Revoked and is never trusted again; after the remove hold-down it is
// Removed and forgotten. Keys are matched across states by algorithm and
// public key, ignoring the REVOKE flag, since revoking a key changes its
// flags and so its key tag.
type Tracker struct {
	zone string
	file string // "" keeps the state in memory only
	now  func() time.Time

	mu sync.Mutex
	// ds are the configured DS anchors, used until a DNSKEY RRset has
	// validated, after which the keys they matched are tracked and ds is
	// nil for good.
	ds   []*dns.DS
	keys []*trackedKey
	// dirty records a change that could not be saved: the next Observe
	// saves even if it changes nothing.
	dirty bool

	// The active refresh timer (section 2.3), from the last validated
	// RRset: when it came, its original TTL and how long its RRSIGs had
	// left then. lastFail is the last failed fetch after it.
	lastFetch time.Time
	origTTL   time.Duration
	expiry    time.Duration
	lastFail  time.Time
}

// trackedKey is one key of the zone and its RFC 5011 state.
type trackedKey struct {
	key        *dns.DNSKEY // as last published; the revoked form once revoked
	id         string      // keyID: the same for the key and its revoked form
	state      KeyState
	firstSeen  time.Time // first seen in a validated RRset, or configured
	lastChange time.Time // last change of state
	// AddPend only: when the add hold-down ends, and the key tags of the
	// trusted keys whose signatures validated the RRset the key first
	// appeared in (section 2.2: if they are all revoked before acceptAt,
	// the hold-down starts over).
	acceptAt    time.Time
	validatedBy []uint16
}

// NewTracker starts tracking zone from its anchors in initial (DS or
// DNSKEY), restoring its earlier state from stateFile if that file exists;
// the state file then replaces initial, which may be nil. stateFile ""
// keeps the state in memory only. A state file for another zone, or one
// that cannot be read or understood, is an error that names it; a missing
// one is not. now is the clock (nil for time.Now); tests move it by hand.
func NewTracker(zone string, initial *Set, stateFile string, now func() time.Time) (*Tracker, error) {
	name, err := canonicalName(zone)
	if err != nil {
		return nil, fmt.Errorf("trust anchor tracker: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	t := &Tracker{zone: name, file: stateFile, now: now}
	if stateFile != "" {
		keys, err := loadState(stateFile, name)
		switch {
		case err == nil:
			t.keys = keys
			return t, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	ds, keys := initial.For(name)
	if len(ds) == 0 && len(keys) == 0 {
		return nil, fmt.Errorf("trust anchor tracker for %s: %w for the zone", name, ErrEmpty)
	}
	t.ds = ds
	start := t.clock()
	for _, k := range keys {
		t.keys = append(t.keys, &trackedKey{key: k, id: keyID(k), state: Valid, firstSeen: start, lastChange: start})
	}
	return t, nil
}

// Zone returns the zone tracked, in canonical form.
func (t *Tracker) Zone() string { return t.zone }

// clock returns the time now, to the second: the state file keeps
// seconds, and a restored Tracker must behave as the one that saved it.
func (t *Tracker) clock() time.Time { return t.now().UTC().Truncate(time.Second) }

// Trusted returns the anchors the validator must use now: the configured
// DS records until a DNSKEY RRset has validated through them (with any
// configured DNSKEYs), then the Valid and Missing keys as DNSKEY anchors,
// never Revoked ones. The Set is empty when every key has been revoked
// (RFC 5011 section 5).
func (t *Tracker) Trusted() *Set {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := NewSet()
	for _, d := range t.ds {
		if err := s.Add(d); err != nil {
			continue // cannot happen: ds came out of a Set
		}
	}
	for _, k := range t.keys {
		if k.state.trusted() {
			if err := s.Add(k.key); err != nil {
				continue // cannot happen: trusted keys are unrevoked zone keys
			}
		}
	}
	return s
}

// Observe takes a DNSKEY RRset of the zone that the validator has just
// validated with the currently trusted anchors, with its RRSIGs, and
// applies RFC 5011's transitions (section 4): new SEP keys go AddPend,
// AddPend keys whose add hold-down has passed go Valid and absent ones
// Start, absent Valid keys go Missing and returning Missing keys Valid,
// keys that sign the RRset in their revoked form go Revoked, and Revoked
// keys whose remove hold-down has passed go Removed (and are forgotten
// once no longer published). When anything changed, it saves the state
// file. It also restarts the refresh timer (NextRefresh).
//
// Observe checks the validation itself: a trusted key (or, before the
// first validation, a key matching a configured DS) must have a
// signature over the RRset, valid now, that verifies. Without one,
// nothing changes except that self-signed revocations of keys the tracker
// knows are still honoured, since such a signature authenticates itself
// (section 2.1); Observe then returns an error wrapping ErrNotValidated. A
// validator may pass an RRset that failed validation for that purpose:
// when a zone revokes its only key, the RRset no longer validates with it.
//
// The only other error is a failed save, after which the state in memory
// is the new one and the next Observe tries to save it again.
func (t *Tracker) Observe(keys []*dns.DNSKEY, sigs []*dns.RRSIG) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	o := t.newObservation(keys, sigs, now)
	changed := t.applyRevocations(o, now)
	if len(o.validators) == 0 {
		err := fmt.Errorf("trust anchors for %s: %w", t.zone, ErrNotValidated)
		if serr := t.saveIfChanged(changed, now); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	if t.endBootstrap(o, now) {
		changed = true
	}
	if t.applyPresence(o, now) {
		changed = true
	}
	// Section 2.3: the refresh interval runs from this fetch.
	t.lastFetch, t.origTTL, t.expiry, t.lastFail = now, o.minTTL, o.expiry, time.Time{}
	return t.saveIfChanged(changed, now)
}

// observation is what Observe learns from one RRset before changing
// anything.
type observation struct {
	rrset     []dns.RR               // the keys as given, for verifying
	published map[string]*dns.DNSKEY // the zone's unrevoked keys by keyID
	revoked   map[string]*dns.DNSKEY // keys revoked by their own signature, by keyID
	// validators are the trusted keys with a verified signature over the
	// RRset; the rest is from their RRSIGs: the least and greatest
	// original TTL and the least time left before expiration.
	validators []*dns.DNSKEY
	minTTL     time.Duration
	maxTTL     time.Duration
	expiry     time.Duration
}

func (t *Tracker) newObservation(keys []*dns.DNSKEY, sigs []*dns.RRSIG, now time.Time) *observation {
	o := &observation{published: make(map[string]*dns.DNSKEY), revoked: make(map[string]*dns.DNSKEY)}
	var revokedForms []*dns.DNSKEY
	for _, k := range keys {
		if k == nil {
			continue
		}
		o.rrset = append(o.rrset, k)
		if k.Hdr.Class != dns.ClassINET || k.Protocol != 3 || k.Flags&dns.ZONE == 0 || !t.isZone(k.Hdr.Name) {
			continue // not a key of the zone's that RFC 5011 can track
		}
		c := dns.Copy(k).(*dns.DNSKEY)
		c.Hdr.Name = t.zone
		if c.Flags&dns.REVOKE != 0 {
			revokedForms = append(revokedForms, c)
		} else {
			o.published[keyID(c)] = c
		}
	}
	var usable []*dns.RRSIG
	for _, s := range sigs {
		if s != nil && s.TypeCovered == dns.TypeDNSKEY && t.isZone(s.SignerName) {
			usable = append(usable, s)
		}
	}
	budget := maxVerifications
	verify := func(k *dns.DNSKEY, s *dns.RRSIG) bool {
		if s.KeyTag != k.KeyTag() || s.Algorithm != k.Algorithm || budget == 0 {
			return false
		}
		budget--
		return s.Verify(k, o.rrset) == nil
	}

	// Revocations first (section 2.1): they need only the key's own
	// signature, so are checked whether or not the RRset validates. Only
	// keys the tracker knows and has not already revoked are worth the
	// verification; an unknown revoked key changes nothing. Its signature
	// is not held to its validity period: a revocation cannot be undone,
	// so an old one is as good as a fresh one.
	for _, rk := range revokedForms {
		id := keyID(rk)
		tk := t.find(id)
		if tk == nil || tk.state == Revoked || tk.state == Removed {
			continue
		}
		for _, s := range usable {
			if verify(rk, s) {
				o.revoked[id] = rk
				break
			}
		}
	}

	// Then the validation: which trusted keys sign the RRset now.
	candidates := t.trustedKeys(o)
	for _, s := range usable {
		if !s.ValidityPeriod(now) {
			continue
		}
		for _, k := range candidates {
			if o.revoked[keyID(k)] != nil || slices.Contains(o.validators, k) || !verify(k, s) {
				continue
			}
			o.validators = append(o.validators, k)
			ttl := time.Duration(s.OrigTtl) * time.Second
			left := expiration(s, now).Sub(now)
			if len(o.validators) == 1 {
				o.minTTL, o.maxTTL, o.expiry = ttl, ttl, left
			} else {
				o.minTTL, o.maxTTL, o.expiry = min(o.minTTL, ttl), max(o.maxTTL, ttl), min(o.expiry, left)
			}
			break
		}
	}
	return o
}

// trustedKeys returns the keys whose signatures validate an RRset: the
// Valid and Missing keys (as published, if they are) and, until the first
// validation, the published keys that match a configured DS.
func (t *Tracker) trustedKeys(o *observation) []*dns.DNSKEY {
	var keys []*dns.DNSKEY
	for _, k := range t.keys {
		if !k.state.trusted() {
			continue
		}
		if p := o.published[k.id]; p != nil {
			// The key as published: the same key, but its flags may have
			// changed (not to revoked: p is not), and with them its tag.
			keys = append(keys, p)
		} else {
			keys = append(keys, k.key)
		}
	}
	if t.ds != nil {
		for _, k := range sortedKeys(o.published) {
			if t.matchesDS(k) && t.find(keyID(k)) == nil {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// applyRevocations moves the keys revoked in o to Revoked (the RevBit
// event), from any state: a key pending addition that its owner revokes
// must never be added either.
func (t *Tracker) applyRevocations(o *observation, now time.Time) (changed bool) {
	for id, rk := range o.revoked {
		tk := t.find(id)
		tk.key = rk
		t.setState(tk, Revoked, now)
		changed = true
	}
	return changed
}

// endBootstrap ends the use of the configured DS anchors once an RRset has
// validated: the published keys they match are trust anchors from now on,
// Valid at once. Those DS records were configured out of band, which is
// what the add hold-down would otherwise stand in for.
func (t *Tracker) endBootstrap(o *observation, now time.Time) bool {
	if t.ds == nil {
		return false
	}
	for _, k := range sortedKeys(o.published) {
		if o.revoked[keyID(k)] == nil && t.matchesDS(k) && t.find(keyID(k)) == nil {
			t.keys = append(t.keys, &trackedKey{key: k, id: keyID(k), state: Valid, firstSeen: now, lastChange: now})
		}
	}
	t.ds = nil
	return true
}

// applyPresence applies the events of a validated RRset to every key:
// NewKey, AddTime, KeyRem and the return of a Missing key for published
// and absent keys, RemTime for revoked ones (section 4).
func (t *Tracker) applyPresence(o *observation, now time.Time) (changed bool) {
	for _, tk := range t.keys {
		if p := o.published[tk.id]; p != nil && tk.state != Revoked && tk.state != Removed && tk.key.Flags != p.Flags {
			// The same key with other flags (its SEP flag dropped, say): the
			// key is what was trusted, and the validator must be handed it
			// as published, or its key tag would not match the RRSIGs'.
			tk.key = p
			changed = true
		}
	}
	holdDown := max(AddHoldDown, o.maxTTL) // section 2.4.1
	var vouchers []uint16
	for _, v := range o.validators {
		vouchers = append(vouchers, v.KeyTag())
	}
	slices.Sort(vouchers)
	vouchers = slices.Compact(vouchers)
	trustedTags := make(map[uint16]bool)
	for _, k := range t.keys {
		if k.state.trusted() {
			trustedTags[k.key.KeyTag()] = true
		}
	}

	for _, p := range sortedKeys(o.published) {
		id := keyID(p)
		if o.revoked[id] != nil {
			continue // published both ways; the revocation counts
		}
		tk := t.find(id)
		switch {
		case tk == nil:
			// NewKey: only SEP keys become trust anchors (section 4.1); a
			// zone-signing key is the validator's business, not ours.
			if p.Flags&dns.SEP == 0 {
				continue
			}
			t.keys = append(t.keys, &trackedKey{key: p, id: id, state: AddPend, firstSeen: now, lastChange: now,
				acceptAt: now.Add(holdDown), validatedBy: slices.Clone(vouchers)})
			changed = true
		case tk.state == Start:
			// NewKey again: back after an absence, the hold-down starts over.
			tk.key, tk.acceptAt, tk.validatedBy = p, now.Add(holdDown), slices.Clone(vouchers)
			t.setState(tk, AddPend, now)
			changed = true
		case tk.state == AddPend && len(tk.validatedBy) > 0 && !slices.ContainsFunc(tk.validatedBy, func(tag uint16) bool { return trustedTags[tag] }):
			// Section 2.2: every key that vouched for this one has been
			// revoked (or is gone) before its hold-down ended; the keys that
			// validate the RRset now vouch for it, from now.
			tk.acceptAt, tk.validatedBy, tk.lastChange = now.Add(holdDown), slices.Clone(vouchers), now
			changed = true
		case tk.state == AddPend && !now.Before(tk.acceptAt):
			t.setState(tk, Valid, now) // AddTime
			changed = true
		case tk.state == Missing:
			t.setState(tk, Valid, now) // back in the RRset
			changed = true
		}
		// Valid stays Valid. Revoked and Removed stay so: a key published
		// again without its REVOKE flag after revoking itself is not to be
		// trusted (section 2.1).
	}

	kept := t.keys[:0]
	for _, tk := range t.keys {
		present := o.published[tk.id] != nil || o.revoked[tk.id] != nil || t.revokedFormPublished(o, tk)
		switch {
		case !present && tk.state == AddPend: // KeyRem
			t.setState(tk, Start, now)
			changed = true
		case !present && tk.state == Valid: // KeyRem
			t.setState(tk, Missing, now)
			changed = true
		case !present && tk.state == Start && !now.Before(tk.lastChange.Add(RemoveHoldDown)):
			changed = true
			continue // long gone; forget it
		case tk.state == Revoked && !now.Before(tk.lastChange.Add(RemoveHoldDown)): // RemTime
			t.setState(tk, Removed, now)
			changed = true
		case !present && tk.state == Removed:
			continue // forgotten (not in the state file already)
		}
		kept = append(kept, tk)
	}
	clear(t.keys[len(kept):])
	t.keys = kept
	return changed
}

// revokedFormPublished reports whether a Revoked or Removed key is still
// published in its revoked form (with a signature or not).
func (t *Tracker) revokedFormPublished(o *observation, tk *trackedKey) bool {
	if tk.state != Revoked && tk.state != Removed {
		return false
	}
	for _, r := range o.rrset {
		if k, ok := r.(*dns.DNSKEY); ok && k.Flags&dns.REVOKE != 0 && keyID(k) == tk.id {
			return true
		}
	}
	return false
}

// setState moves tk to state s at now; only AddPend keeps the hold-down.
func (t *Tracker) setState(tk *trackedKey, s KeyState, now time.Time) {
	tk.state, tk.lastChange = s, now
	if s != AddPend {
		tk.acceptAt, tk.validatedBy = time.Time{}, nil
	}
}

// saveIfChanged saves the state file after a change, or after an earlier
// save failed.
func (t *Tracker) saveIfChanged(changed bool, now time.Time) error {
	if !changed && !t.dirty {
		return nil
	}
	if t.file == "" {
		return nil
	}
	data, err := encodeState(t.zone, t.keys, now)
	if err == nil {
		err = writeFileAtomic(t.file, data)
	}
	t.dirty = err != nil
	return err
}

// Failed records that a fetch of the zone's DNSKEY RRset failed, so that
// NextRefresh uses the retry interval (section 2.3).
func (t *Tracker) Failed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastFail = t.clock()
}

// NextRefresh returns when the zone's DNSKEY RRset should be fetched again
// (RFC 5011 section 2.3): the refresh interval after the last validated
// one, max(RefreshMin, min(RefreshMax, original TTL/2, expiration
// interval/2)); after a failure, the retry interval after it,
// max(RetryMin, min(RetryMax, original TTL/10, expiration interval/10)).
// The expiration interval is the time the RRSIGs had left when the RRset
// was fetched. Before any RRset has been observed, the RRset is due now,
// and after a failure RetryMin later: the section's bounds allow any retry
// interval from RetryMin up, and without an RRset there is nothing to
// compute a longer one from.
func (t *Tracker) NextRefresh() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.lastFail.IsZero() && t.lastFetch.IsZero():
		return t.lastFail.Add(RetryMin)
	case !t.lastFail.IsZero():
		return t.lastFail.Add(retryInterval(t.origTTL, t.expiry))
	case !t.lastFetch.IsZero():
		return t.lastFetch.Add(refreshInterval(t.origTTL, t.expiry))
	}
	return t.clock()
}

// refreshInterval is section 2.3's queryInterval.
func refreshInterval(origTTL, expiry time.Duration) time.Duration {
	return max(RefreshMin, min(RefreshMax, origTTL/2, expiry/2))
}

// retryInterval is section 2.3's retryTime.
func retryInterval(origTTL, expiry time.Duration) time.Duration {
	return max(RetryMin, min(RetryMax, origTTL/10, expiry/10))
}

// expiration returns the RRSIG's expiration as the time nearest now that
// the 32-bit field can mean (RFC 4034 section 3.1.5: serial number
// arithmetic, so it wraps in 2106).
func expiration(s *dns.RRSIG, now time.Time) time.Time {
	// The wrap-around of both conversions is the point: RFC 1982 arithmetic.
	delta := int32(s.Expiration - uint32(now.Unix()))
	return now.Add(time.Duration(delta) * time.Second)
}

// State returns each key's state by key tag, for logs and statistics. A
// revoked key is listed under the tag of its revoked form, which is what
// the zone publishes. Should two keys share a tag, the more trusted
// state is reported; Keys has them all.
func (t *Tracker) State() map[uint16]KeyState {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[uint16]KeyState, len(t.keys))
	for _, k := range t.keys {
		tag := k.key.KeyTag()
		if have, ok := m[tag]; !ok || rank(k.state) > rank(have) {
			m[tag] = k.state
		}
	}
	return m
}

// rank orders states by how much they are trusted, for State's tie-break.
func rank(s KeyState) int {
	return [...]int{Valid: 5, Missing: 4, AddPend: 3, Start: 2, Revoked: 1, Removed: 0}[s]
}

// KeyInfo describes one key a Tracker knows.
type KeyInfo struct {
	Key        *dns.DNSKEY // a copy, as last published (revoked form for revoked keys)
	Tag        uint16      // Key's key tag
	State      KeyState
	FirstSeen  time.Time // first seen in a validated RRset, or when configured
	LastChange time.Time // last change of State
	AcceptAt   time.Time // AddPend: when the add hold-down ends; zero otherwise
}

// Keys returns every key the tracker knows, in the order it learnt them.
func (t *Tracker) Keys() []KeyInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	infos := make([]KeyInfo, 0, len(t.keys))
	for _, k := range t.keys {
		infos = append(infos, KeyInfo{
			Key: dns.Copy(k.key).(*dns.DNSKEY), Tag: k.key.KeyTag(), State: k.state,
			FirstSeen: k.firstSeen, LastChange: k.lastChange, AcceptAt: k.acceptAt,
		})
	}
	return infos
}

func (t *Tracker) find(id string) *trackedKey {
	for _, k := range t.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

func (t *Tracker) isZone(name string) bool {
	c, err := canonicalName(name)
	return err == nil && c == t.zone
}

// matchesDS reports whether k is the key of one of the configured DS
// records.
func (t *Tracker) matchesDS(k *dns.DNSKEY) bool {
	for _, d := range t.ds {
		if d.KeyTag != k.KeyTag() || d.Algorithm != k.Algorithm {
			continue
		}
		if got := k.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) {
			return true
		}
	}
	return false
}

// keyID identifies a key whatever its flags: its protocol, algorithm and
// public key. Revoking a key sets a flag, which changes its key tag but
// not this (RFC 5011 section 2.1).
func keyID(k *dns.DNSKEY) string {
	key, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		key = []byte(k.PublicKey) // cannot verify anything anyway; any stable identity will do
	}
	return fmt.Sprintf("%d/%d/%x", k.Protocol, k.Algorithm, key)
}

// sortedKeys returns the map's keys in a fixed order (by identity), so
// that what Observe records does not depend on map iteration.
func sortedKeys(m map[string]*dns.DNSKEY) []*dns.DNSKEY {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	keys := make([]*dns.DNSKEY, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, m[id])
	}
	return keys
}
