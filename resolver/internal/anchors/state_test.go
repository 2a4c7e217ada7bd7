package anchors

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStateRoundTrip saves keys in several states, restores them in a new
// Tracker (without configured anchors: the file is enough) and checks
// that states, times and hold-downs carry over, including a pending key
// becoming Valid at the time the first Tracker set.
func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "example.json")
	a := newTestKey(t, "example.", 257)
	r := newTestKey(t, "example.", 257)
	m := newTestKey(t, "example.", 257)
	b := newTestKey(t, "example.", 257)
	c := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", dsSet(t, a, r, m), file)
	e.mustObserve(set(a, r, m, c), a) // A, R and M valid, C pending
	e.clock.advance(day)
	e.mustObserve(set(a, r.revoked(), b), a, r.revoked())
	e.wantState(a, Valid)
	e.wantState(r.revoked(), Revoked)
	e.wantState(m, Missing)
	e.wantState(b, AddPend)
	e.wantState(c, Start)

	before := e.tr.Keys()
	restored, err := NewTracker("EXAMPLE.", nil, file, e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	after := restored.Keys()
	if len(after) != len(before) {
		t.Fatalf("restored %d keys, saved %d", len(after), len(before))
	}
	for i := range before {
		x, y := before[i], after[i]
		if x.Tag != y.Tag || x.State != y.State || !x.FirstSeen.Equal(y.FirstSeen) ||
			!x.LastChange.Equal(y.LastChange) || !x.AcceptAt.Equal(y.AcceptAt) || x.Key.String() != y.Key.String() {
			t.Errorf("key %d: saved %+v, restored %+v", i, x, y)
		}
	}
	if got, want := restored.Trusted().String(), e.tr.Trusted().String(); got != want {
		t.Errorf("restored Trusted:\n%s\nwant:\n%s", got, want)
	}
}

// TestStateRestoreContinues: a Tracker restored from the file carries on
// where the saved one was: B's hold-down ends 30 days after it appeared.
func TestStateRestoreContinues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "root.json")
	a := newTestKey(t, ".", 257)
	b := newTestKey(t, ".", 257)
	e := newEnv(t, ".", dsSet(t, a), file)
	e.mustObserve(set(a), a)
	e.mustObserve(set(a, b), a)
	appeared := e.clock.now()

	e.clock.advance(29 * day)
	tr, err := NewTracker(".", IANARoot(), file, e.clock.now) // the state file wins over IANARoot
	if err != nil {
		t.Fatal(err)
	}
	e.tr = tr
	e.wantState(a, Valid)
	e.wantState(b, AddPend)
	e.wantTrusted(a)
	e.mustObserve(set(a, b), a)
	e.wantState(b, AddPend)
	e.clock.advance(appeared.Add(AddHoldDown).Sub(e.clock.now()))
	e.mustObserve(set(a, b), a)
	e.wantState(b, Valid)
}

// TestStateAtomic: saves leave the state file alone in its directory (no
// temporary files), readable by others, and valid JSON of the documented
// shape.
func TestStateAtomic(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "state.json")
	a := newTestKey(t, "example.", 257)
	b := newTestKey(t, "example.", 257)
	e := newEnv(t, "example.", keySet(t, a), file)
	for range 5 {
		e.mustObserve(set(a, b), a)
		e.clock.advance(day)
		e.mustObserve(set(a), a)
		e.clock.advance(day)
	}
	// An RRset that changes nothing does not rewrite the file, though the
	// clock has moved (the file records when it was saved).
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e.mustObserve(set(a), a)
	if again, err := os.ReadFile(file); err != nil || string(again) != string(saved) {
		t.Errorf("state file rewritten without a change (%v)", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if !slices.Equal(names, []string{"state.json"}) {
		t.Errorf("directory holds %q, want the state file only", names)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("state file mode %v, want 0644", info.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version int    `json:"version"`
		Zone    string `json:"zone"`
		Keys    []struct {
			Tag        uint16 `json:"tag"`
			State      string `json:"state"`
			FirstSeen  string `json:"first_seen"`
			LastChange string `json:"last_change"`
			DNSKEY     string `json:"dnskey"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%v:\n%s", err, data)
	}
	if f.Version != 1 || f.Zone != "example." || len(f.Keys) != 2 {
		t.Fatalf("state file:\n%s", data)
	}
	for _, k := range f.Keys {
		if _, err := time.Parse(time.RFC3339, k.FirstSeen); err != nil {
			t.Errorf("first_seen %q is not RFC 3339", k.FirstSeen)
		}
		if _, err := time.Parse(time.RFC3339, k.LastChange); err != nil {
			t.Errorf("last_change %q is not RFC 3339", k.LastChange)
		}
		if !strings.Contains(k.DNSKEY, " DNSKEY 257 3 13 ") {
			t.Errorf("dnskey %q", k.DNSKEY)
		}
	}
	if f.Keys[0].Tag != a.tag() || f.Keys[0].State != "valid" || f.Keys[1].Tag != b.tag() || f.Keys[1].State != "start" {
		t.Errorf("keys %+v", f.Keys)
	}
}

// TestStateFileErrors: a garbled file, one for another zone and one of a
// later version are errors that name the file; unknown fields are not.
func TestStateFileErrors(t *testing.T) {
	a := newTestKey(t, "example.", 257)
	good := `{"version": 1, "zone": "example.", "future": {"x": 1}, "keys": [
		{"tag": 1, "state": "valid", "first_seen": "2026-01-01T00:00:00Z", "last_change": "2026-01-01T00:00:00Z",
		 "whatever": true, "dnskey": "` + presentation(a.key) + `"}]}`
	for _, c := range []struct {
		name, content string
		says          string // "" for no error
	}{
		{"unknown fields", good, ""},
		{"garbled", `{"version": 1, "zone": "example.", "keys": [`, "not a valid state file"},
		{"not json", "example. DNSKEY 257 3 13 AAAA\n", "not a valid state file"},
		{"another zone", strings.Replace(good, `"zone": "example."`, `"zone": "example.org."`, 1), "for zone example.org., not example."},
		{"later version", strings.Replace(good, `"version": 1`, `"version": 2`, 1), "version 2"},
		{"no version", strings.Replace(good, `"version": 1,`, ``, 1), "no version"},
		{"unknown state", strings.Replace(good, `"valid"`, `"trusted"`, 1), "no such key state"},
		{"bad key", strings.Replace(good, presentation(a.key), "example. DNSKEY 257 3 13 !!", 1), "key 1"},
		{"key of another zone", strings.Replace(good, presentation(a.key), strings.Replace(presentation(a.key), "example.", "other.", 1), 1), "DNSKEY of other."},
		{"revoked flag on a valid key", strings.Replace(good, presentation(a.key), presentation(a.revoked().key), 1), "state valid with flags 385"},
		{"key twice", strings.Replace(good, `]}`, `, {"state": "valid", "last_change": "2026-01-01T00:00:00Z", "dnskey": "`+presentation(a.key)+`"}]}`, 1), "listed twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "anchors.state")
			if err := os.WriteFile(file, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			tr, err := NewTracker("example.", keySet(t, newTestKey(t, "example.", 257)), file, newTestClock().now)
			if c.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, keys := tr.Trusted().For("example."); len(keys) != 1 || keys[0].PublicKey != a.key.PublicKey {
					t.Errorf("Trusted = %v, want the key from the file", keys)
				}
				return
			}
			if err == nil {
				t.Fatal("NewTracker succeeded")
			}
			if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q should name %s and say %q", err, file, c.says)
			}
		})
	}
}

// TestStateFileUnreadable: a state file that exists but cannot be read is
// an error, not a reason to start over from the configured anchors.
func TestStateFileUnreadable(t *testing.T) {
	dir := t.TempDir() // a directory where the file should be
	if _, err := NewTracker(".", IANARoot(), dir, nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("NewTracker with a directory as state file = %v", err)
	}
}

// TestNoStateFile: with stateFile "" nothing is written anywhere (the
// working directory stays empty).
func TestNoStateFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	a := newTestKey(t, ".", 257)
	b := newTestKey(t, ".", 257)
	e := newEnv(t, ".", dsSet(t, a), "")
	e.mustObserve(set(a), a)
	e.mustObserve(set(a, b), a)
	e.clock.advance(AddHoldDown)
	e.mustObserve(set(a, b), a)
	e.wantState(b, Valid)
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("working directory holds %v (%v)", entries, err)
	}
}

// TestSaveFailure: a failed save is Observe's error, names the file,
// leaves the new state in memory, and is retried by the next Observe even
// if that changes nothing.
func TestSaveFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	file := filepath.Join(dir, "state.json")
	a := newTestKey(t, ".", 257)
	e := newEnv(t, ".", dsSet(t, a), file)
	err := e.observe(set(a), a)
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Observe = %v, want a save error naming %s", err, file)
	}
	if errors.Is(err, ErrNotValidated) {
		t.Errorf("save error %v wraps ErrNotValidated", err)
	}
	e.wantState(a, Valid)
	e.wantTrusted(a)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.mustObserve(set(a), a) // no change, but the save is due
	if _, err := os.Stat(file); err != nil {
		t.Errorf("state not saved on retry: %v", err)
	}
}
