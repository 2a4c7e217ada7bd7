package anchors

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// KeyState is a key's state in RFC 5011's state table (section 4). The
// zero value is Start.
type KeyState uint8

// The states of RFC 5011 section 4.
const (
	// Start: the key is not a trust anchor. It was seen in a validated
	// DNSKEY RRset but was absent from a later one before its add
	// hold-down ended.
	Start KeyState = iota
	// AddPend: a new SEP key seen in a validated DNSKEY RRset, waiting out
	// the add hold-down. Not trusted yet.
	AddPend
	// Valid: a trust anchor, in every validated DNSKEY RRset since.
	Valid
	// Missing: a trust anchor absent from the last validated DNSKEY RRset.
	// RFC 5011 calls this abnormal (a zone should revoke a key before
	// dropping it) and keeps trusting the key.
	Missing
	// Revoked: the key published itself with the REVOKE flag and signed
	// that (section 2.1). Never trusted again.
	Revoked
	// Removed: a revoked key whose remove hold-down has passed. It is
	// forgotten: left out of the state file, and dropped from memory once
	// the zone no longer publishes it.
	Removed
)

var keyStateNames = [...]string{
	Start:   "start",
	AddPend: "addpend",
	Valid:   "valid",
	Missing: "missing",
	Revoked: "revoked",
	Removed: "removed",
}

// String returns the state's name as in the state file: "start",
// "addpend", "valid", "missing", "revoked" or "removed".
func (s KeyState) String() string {
	if int(s) < len(keyStateNames) {
		return keyStateNames[s]
	}
	return fmt.Sprintf("KeyState(%d)", uint8(s))
}

// MarshalText writes the state's name, for the state file.
func (s KeyState) MarshalText() ([]byte, error) {
	if int(s) >= len(keyStateNames) {
		return nil, fmt.Errorf("anchors: no such key state %d", uint8(s))
	}
	return []byte(keyStateNames[s]), nil
}

// UnmarshalText reads a state's name as String writes it.
func (s *KeyState) UnmarshalText(text []byte) error {
	i := slices.Index(keyStateNames[:], string(text))
	if i < 0 {
		return fmt.Errorf("anchors: no such key state %q", text)
	}
	*s = KeyState(i)
	return nil
}

// trusted reports whether a key in state s is a trust anchor.
func (s KeyState) trusted() bool { return s == Valid || s == Missing }

// stateVersion is the version of the state file format this package
// writes. A file with a higher one comes from a later rootwalk and is
// refused rather than half understood.
const stateVersion = 1

// maxStateFileSize bounds what NewTracker reads: a zone has a handful of
// keys, each a few hundred bytes.
const maxStateFileSize = 1 << 20

// stateFile is the JSON form of a Tracker's keys. Fields it does not know
// are ignored when reading (encoding/json's default), so a later version
// may add some.
type stateFile struct {
	Version int        `json:"version"`
	Zone    string     `json:"zone"`
	Saved   time.Time  `json:"saved"`
	Keys    []stateKey `json:"keys"`
}

type stateKey struct {
	Tag         uint16    `json:"tag"` // for people; recomputed from DNSKEY when read
	State       KeyState  `json:"state"`
	FirstSeen   time.Time `json:"first_seen"`
	LastChange  time.Time `json:"last_change"`
	AcceptAt    time.Time `json:"accept_at,omitzero"`
	ValidatedBy []uint16  `json:"validated_by,omitempty"`
	DNSKEY      string    `json:"dnskey"`
}

// encodeState returns the state file for zone's keys. Removed keys are
// left out: RFC 5011 section 2.4.2 lets a resolver forget a revoked key
// once its remove hold-down has passed.
func encodeState(zone string, keys []*trackedKey, now time.Time) ([]byte, error) {
	f := stateFile{Version: stateVersion, Zone: zone, Saved: now, Keys: []stateKey{}}
	for _, k := range keys {
		if k.state == Removed {
			continue
		}
		f.Keys = append(f.Keys, stateKey{
			Tag:         k.key.KeyTag(),
			State:       k.state,
			FirstSeen:   k.firstSeen,
			LastChange:  k.lastChange,
			AcceptAt:    k.acceptAt,
			ValidatedBy: k.validatedBy,
			DNSKEY:      presentation(k.key),
		})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode trust anchor state: %w", err)
	}
	return append(data, '\n'), nil
}

// presentation returns rr in presentation form with single spaces:
// miekg/dns separates fields with tabs, which JSON would show as \t.
// Nothing inside a field is a raw space or tab (names escape them), so
// this changes only the separators.
func presentation(rr dns.RR) string { return strings.Join(strings.Fields(rr.String()), " ") }

// loadState reads the state file path for zone. A missing file is an error
// wrapping fs.ErrNotExist; the caller treats it as no state.
func loadState(path, zone string) ([]*trackedKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trust anchor state: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: closing cannot lose anything
	data, err := io.ReadAll(io.LimitReader(f, maxStateFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("trust anchor state: read %s: %w", path, err)
	}
	keys, err := decodeState(data, zone)
	if err != nil {
		return nil, fmt.Errorf("trust anchor state %s: %w", path, err)
	}
	return keys, nil
}

// errBadState is wrapped by every complaint about a state file's content.
var errBadState = errors.New("not a valid state file")

func decodeState(data []byte, zone string) ([]*trackedKey, error) {
	if len(data) > maxStateFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", errBadState, maxStateFileSize)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadState, err)
	}
	switch {
	case f.Version == 0:
		return nil, fmt.Errorf("%w: no version", errBadState)
	case f.Version > stateVersion:
		return nil, fmt.Errorf("%w: version %d is newer than this rootwalk's (%d)", errBadState, f.Version, stateVersion)
	}
	fileZone, err := canonicalName(f.Zone)
	if err != nil || f.Zone == "" {
		return nil, fmt.Errorf("%w: zone %q", errBadState, f.Zone)
	}
	if fileZone != zone {
		return nil, fmt.Errorf("%w: it is for zone %s, not %s", errBadState, fileZone, zone)
	}
	var keys []*trackedKey
	for i, sk := range f.Keys {
		k, err := decodeKey(sk, zone)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", errBadState, i+1, err)
		}
		if k == nil {
			continue
		}
		if slices.ContainsFunc(keys, func(o *trackedKey) bool { return o.id == k.id }) {
			return nil, fmt.Errorf("%w: key %d: listed twice: %s", errBadState, i+1, sk.DNSKEY)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// decodeKey returns the key of one state file entry, or nil for one to
// forget (Removed: this package never writes those, but a hand-edited
// file might).
func decodeKey(sk stateKey, zone string) (*trackedKey, error) {
	rr, err := dns.NewRR(sk.DNSKEY)
	if err != nil {
		return nil, err
	}
	key, ok := rr.(*dns.DNSKEY)
	if !ok {
		return nil, fmt.Errorf("not a DNSKEY: %q", sk.DNSKEY)
	}
	owner, err := canonicalName(key.Hdr.Name)
	if err != nil {
		return nil, err
	}
	switch {
	case owner != zone:
		return nil, fmt.Errorf("DNSKEY of %s, not %s", owner, zone)
	case key.Hdr.Class != dns.ClassINET || key.Protocol != 3 || key.Flags&dns.ZONE == 0:
		return nil, fmt.Errorf("not an IN zone key with protocol 3: %s", key)
	case sk.State > Removed:
		return nil, fmt.Errorf("state %d", sk.State)
	case sk.State == Removed:
		return nil, nil
	case (sk.State == Revoked) != (key.Flags&dns.REVOKE != 0):
		// A revoked key is kept in its revoked form, and only revoked keys
		// are: a REVOKE flag elsewhere means the file was edited wrongly.
		return nil, fmt.Errorf("state %s with flags %d", sk.State, key.Flags)
	case sk.LastChange.IsZero():
		return nil, errors.New("no last_change")
	}
	raw, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("public key is not base64: %s", key)
	}
	key.PublicKey = base64.StdEncoding.EncodeToString(raw)
	key.Hdr.Name = owner
	k := &trackedKey{
		key:         key,
		id:          keyID(key),
		state:       sk.State,
		firstSeen:   sk.FirstSeen.UTC(),
		lastChange:  sk.LastChange.UTC(),
		acceptAt:    sk.AcceptAt.UTC(),
		validatedBy: slices.Clone(sk.ValidatedBy),
	}
	if k.firstSeen.IsZero() {
		k.firstSeen = k.lastChange
	}
	if k.state == AddPend && sk.AcceptAt.IsZero() {
		k.acceptAt = k.firstSeen.Add(AddHoldDown)
	}
	if k.state != AddPend {
		k.acceptAt, k.validatedBy = time.Time{}, nil
	}
	return k, nil
}

// writeFileAtomic replaces path with data so that a crash at any moment
// leaves either the old file or the new one, never a mix: the data go to a
// temporary file in the same directory (a rename is atomic only within a
// file system), which is fsynced before it is renamed over path, and the
// directory is fsynced after so that the rename itself survives a crash.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("save trust anchor state %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // may be closed already; the error is the one to report
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("save trust anchor state %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; nothing in it is secret, and
	// operators read it to see where a key roll stands.
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("save trust anchor state %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save trust anchor state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save trust anchor state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save trust anchor state %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		// Best effort: some file systems cannot fsync a directory, and the
		// new file is in place whatever this returns.
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
