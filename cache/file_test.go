package cache

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestSaveLoadKeepsTheTimeThatPassed(t *testing.T) {
	c := newCache(t, Options{StaleMaxAge: time.Hour})
	storeA(t, c, "short.example.com.", 60, t0)
	storeA(t, c, "long.example.com.", 3600, t0)
	c.StoreAnswer(query("nope.example.com.", dns.TypeA), aa(msg(t, dns.RcodeNameError, nil, soa)), t0)
	c.StoreNameError("nope.example.com.", aa(msg(t, dns.RcodeNameError, nil, soa)), t0)
	c.StoreDelegation("example.com.", referral(t), t0)
	cd := query("cd.example.com.", dns.TypeA)
	cd.DO, cd.CD = true, true
	c.StoreAnswer(cd, msg(t, dns.RcodeSuccess, []string{"cd.example.com. 600 IN A 192.0.2.5"}), t0)

	var buf bytes.Buffer
	n, err := c.Save(&buf, t0.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := c.Stats().Entries; n != want {
		t.Errorf("saved %d entries, want all %d", n, want)
	}

	// Restarted 2 minutes later: short.example.com's answer has expired
	// but may be served stale (its RRset, never served stale, is
	// skipped); the rest count on from when they were stored.
	later := t0.Add(2 * time.Minute)
	warm := newCache(t, Options{StaleMaxAge: time.Hour})
	loaded, skipped, err := warm.Load(bytes.NewReader(buf.Bytes()), later)
	if err != nil || loaded != n-1 || skipped != 1 {
		t.Fatalf("Load: %d loaded, %d skipped, %v; want %d, 1, nil", loaded, skipped, err, n-1)
	}
	if m, ok := answer(warm, query("long.example.com.", dns.TypeA), later); !ok || m.Answer[0].Header().Ttl != 3600-120 {
		t.Errorf("long: %v, %v; want TTL 3480", m, ok)
	}
	if _, ok := answer(warm, query("short.example.com.", dns.TypeA), later); ok {
		t.Error("short answered fresh after its TTL")
	}
	if _, ok := warm.StaleAnswer(query("short.example.com.", dns.TypeA), later); !ok {
		t.Error("short not kept to serve stale")
	}
	if _, ok := warm.NameError("nope.example.com.", later); !ok {
		t.Error("name error lost")
	}
	if m, ok := answer(warm, cd, later); !ok || m.Answer[0].(*dns.A).A.String() != "192.0.2.5" {
		t.Errorf("DO+CD answer %v, %v", m, ok)
	}
	if _, ok := answer(warm, query("cd.example.com.", dns.TypeA), later); ok {
		t.Error("a CD query's answer reached a plain query")
	}
	if d, ok := warm.Delegation("example.com.", later); !ok || len(d.Extra) != 1 {
		t.Errorf("delegation %v, %v", d, ok)
	}
	if _, ok := answer(warm, query("ns1.example.com.", dns.TypeA), later); ok {
		t.Error("glue answers after a reload: its trust was lost")
	}

	// Two hours on, only what outlives that is loaded.
	cold := newCache(t, Options{StaleMaxAge: time.Hour})
	loaded, skipped, err = cold.Load(bytes.NewReader(buf.Bytes()), t0.Add(2*time.Hour))
	if err != nil || loaded != 2 || skipped != n-2 {
		t.Errorf("two hours on: %d loaded, %d skipped, %v; want only the delegation's 2 RRsets (a day's TTL)", loaded, skipped, err)
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "empty file"},
		{"not ours", `{"format":"other","version":1}` + "\n", "not a rootwalk-cache file"},
		{"future version", `{"format":"rootwalk-cache","version":9}` + "\n", "version 9"},
		{"garbage line", `{"format":"rootwalk-cache","version":1}` + "\n{nope\n", "line 2"},
		{"bad kind", `{"format":"rootwalk-cache","version":1}` + "\n" + `{"kind":"x","name":"a."}` + "\n", `unknown kind "x"`},
		{"bad message", `{"format":"rootwalk-cache","version":1}` + "\n" +
			`{"kind":"answer","name":"a.","stored":"2026-11-27T12:00:00Z","expires":"2026-11-27T13:00:00Z","msg":"AAE="}` + "\n", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, Options{})
			_, _, err := c.Load(strings.NewReader(tc.file), t0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	c := newCache(f, Options{StaleMaxAge: time.Hour})
	storeA(f, c, "www.example.com.", 60, t0)
	c.StoreDelegation("example.com.", &dns.Msg{Ns: []dns.RR{rr(f, "example.com. 60 IN NS ns1.example.com.")}}, t0)
	var buf bytes.Buffer
	if _, err := c.Save(&buf, t0); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"rootwalk-cache","version":1}` + "\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		c, err := New(Options{MaxEntries: 100, StaleMaxAge: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		loaded, _, _ := c.Load(bytes.NewReader(file), t0)
		if s := c.Stats(); s.Entries > loaded || s.Entries > 100 {
			t.Errorf("%d entries after loading %d (bound 100)", s.Entries, loaded)
		}
		c.Entries(Filter{}, t0)
		answer(c, query("www.example.com.", dns.TypeA), t0)
	})
}
