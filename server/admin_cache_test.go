package server

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// cacheStoredAt is when cacheFixture stores its entries.
var cacheStoredAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// cacheFixture returns a real cache, and a clock stopped at cacheStoredAt,
// holding eleven entries: five answers (www.example.com A, example.com MX,
// short.example.com A with a TTL of 10, www.example.org A, and
// nope.example.com A, an NXDOMAIN), the five RRsets they brought (the
// four answers' and example.com's SOA) and one name error
// (nope.example.com). Expired answers are kept an hour to serve stale.
func cacheFixture(t *testing.T) (*cache.Cache, *dnstest.Clock) {
	t.Helper()
	c, err := cache.New(cache.Options{StaleMaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	soa := "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
	for _, a := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
		ns     []string
	}{
		{"www.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"www.example.com. 300 IN A 192.0.2.1"}, nil},
		{"example.com.", dns.TypeMX, dns.RcodeSuccess, []string{"example.com. 300 IN MX 10 mail.example.com."}, nil},
		{"short.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"short.example.com. 10 IN A 192.0.2.2"}, nil},
		{"www.example.org.", dns.TypeA, dns.RcodeSuccess, []string{"www.example.org. 300 IN A 192.0.2.3"}, nil},
		{"nope.example.com.", dns.TypeA, dns.RcodeNameError, nil, []string{soa}},
	} {
		m := &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: a.rcode, Authoritative: true}}
		m.Answer = dnstest.RRs(t, a.answer...)
		m.Ns = dnstest.RRs(t, a.ns...)
		q := dns.Question{Name: a.name, Qtype: a.qtype, Qclass: dns.ClassINET}
		c.StoreAnswer(cache.Query{Question: q}, m, cacheStoredAt)
		if a.rcode == dns.RcodeNameError {
			c.StoreNameError(a.name, m, cacheStoredAt)
		}
	}
	if got := len(c.Entries(cache.Filter{}, cacheStoredAt)); got != 11 {
		t.Fatalf("fixture holds %d entries, want 11", got)
	}
	return c, dnstest.NewClock(cacheStoredAt)
}

// entryKeys renders entries as sorted "kind name type" strings.
func entryKeys(entries []cache.Entry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, strings.TrimSpace(e.Kind+" "+e.Name+" "+e.Type))
	}
	slices.Sort(out)
	return out
}

func TestAdminCacheList(t *testing.T) {
	c, clock := cacheFixture(t)
	// A client asks for www.example.com at +30s, so it is the most
	// recently used; at +60s short.example.com has expired: its answer is
	// kept to serve stale, its RRset is not.
	clock.Advance(30 * time.Second)
	if _, _, ok := c.Answer(cache.Query{Question: dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}, clock.Now()); !ok {
		t.Fatal("fixture: www.example.com A not cached")
	}
	clock.Advance(30 * time.Second)
	admin := NewAdmin(AdminOptions{Cache: c, Clock: clock})

	all := []string{
		"answer example.com. MX", "answer nope.example.com. A", "answer short.example.com. A",
		"answer www.example.com. A", "answer www.example.org. A",
		"nxdomain nope.example.com.",
		"rrset example.com. MX", "rrset example.com. SOA", "rrset www.example.com. A", "rrset www.example.org. A",
	}
	tests := []struct {
		path          string
		want          []string
		wantTruncated bool
	}{
		{"/cache", all, false},
		{"/cache?name=www.example.com", []string{"answer www.example.com. A", "rrset www.example.com. A"}, false},
		{"/cache?name=WWW.Example.COM.", []string{"answer www.example.com. A", "rrset www.example.com. A"}, false},
		{"/cache?name=example.com", []string{"answer example.com. MX", "rrset example.com. MX", "rrset example.com. SOA"}, false},
		{"/cache?name=example.com&subtree=1", []string{
			"answer example.com. MX", "answer nope.example.com. A", "answer short.example.com. A", "answer www.example.com. A",
			"nxdomain nope.example.com.",
			"rrset example.com. MX", "rrset example.com. SOA", "rrset www.example.com. A",
		}, false},
		{"/cache?name=example.com&subtree=true&kind=rrset", []string{"rrset example.com. MX", "rrset example.com. SOA", "rrset www.example.com. A"}, false},
		{"/cache?name=.&subtree=1", all, false},
		{"/cache?type=a", []string{
			"answer nope.example.com. A", "answer short.example.com. A", "answer www.example.com. A", "answer www.example.org. A",
			"rrset www.example.com. A", "rrset www.example.org. A",
		}, false},
		{"/cache?type=TYPE15", []string{"answer example.com. MX", "rrset example.com. MX"}, false},
		{"/cache?kind=nxdomain", []string{"nxdomain nope.example.com."}, false},
		{"/cache?kind=ANSWER&type=MX", []string{"answer example.com. MX"}, false},
		{"/cache?stale=1", []string{"answer short.example.com. A"}, false},
		{"/cache?limit=1", []string{"answer www.example.com. A"}, true}, // the most recently used
		{"/cache?limit=10", all, false},
		{"/cache?name=nothing.test", []string{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			w := get(t, admin.Handler(), tc.path, "")
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var got CacheListJSON
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if keys := entryKeys(got.Entries); !slices.Equal(keys, tc.want) {
				t.Errorf("entries\n got %q\nwant %q", keys, tc.want)
			}
			if got.Count != len(tc.want) || got.Truncated != tc.wantTruncated {
				t.Errorf("count %d truncated %v, want %d %v", got.Count, got.Truncated, len(tc.want), tc.wantTruncated)
			}
			if len(tc.want) == 0 && !strings.Contains(w.Body.String(), `"entries": []`) {
				t.Errorf("no entries not written as []: %s", w.Body)
			}
		})
	}
}

func TestAdminCacheListTTLs(t *testing.T) {
	c, clock := cacheFixture(t)
	clock.Advance(60 * time.Second)
	admin := NewAdmin(AdminOptions{Cache: c, Clock: clock})
	w := get(t, admin.Handler(), "/cache?name=example.com&subtree=1&kind=answer&type=A", "")
	var got CacheListJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	type ttls struct {
		ttl, orig uint32
		stale     bool
		record    string
	}
	want := map[string]ttls{
		"www.example.com.":   {240, 300, false, "www.example.com.\t240\tIN\tA\t192.0.2.1"},
		"short.example.com.": {0, 10, true, "short.example.com.\t0\tIN\tA\t192.0.2.2"},
		"nope.example.com.":  {240, 300, false, "example.com.\t240\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"},
	}
	if len(got.Entries) != len(want) {
		t.Fatalf("%d entries, want %d: %s", len(got.Entries), len(want), w.Body)
	}
	for _, e := range got.Entries {
		wt, ok := want[e.Name]
		if !ok {
			t.Errorf("unexpected entry %+v", e)
			continue
		}
		var record string
		if len(e.Records) == 1 {
			record = e.Records[0]
		}
		if e.TTL != wt.ttl || e.OrigTTL != wt.orig || e.Stale != wt.stale || record != wt.record {
			t.Errorf("%s: ttl %d of %d, stale %v, records %q; want ttl %d of %d, stale %v, [%q]",
				e.Name, e.TTL, e.OrigTTL, e.Stale, e.Records, wt.ttl, wt.orig, wt.stale, wt.record)
		}
	}
}

func TestAdminCacheListRejects(t *testing.T) {
	c, clock := cacheFixture(t)
	admin := NewAdmin(AdminOptions{Cache: c, Clock: clock})
	tests := []struct{ path, wantError string }{
		{"/cache?type=NOPE", `type: "NOPE" is not a record type`},
		{"/cache?type=TYPE0", `type: "TYPE0" is not a record type`},
		{"/cache?type=TYPE70000", `type: "TYPE70000" is not a record type`},
		{"/cache?kind=answers", `kind: "answers" is not a kind of entry; want answer, nxdomain, rrset`},
		{"/cache?limit=0", `limit: "0" is not a number from 1 to 10000`},
		{"/cache?limit=10001", `limit: "10001" is not a number from 1 to 10000`},
		{"/cache?limit=ten", `limit: "ten" is not a number from 1 to 10000`},
		{"/cache?limit=-1", `limit: "-1" is not a number from 1 to 10000`},
		{"/cache?name=a..b", `name: "a..b" is not a domain name`},
		{"/cache?name=", `name: empty`},
		{"/cache?name=" + strings.Repeat("a", 64) + ".com", `is not a domain name`},
		{"/cache?stale=maybe", `stale: "maybe" is not 1, 0, true or false`},
		{"/cache?subtree=1", `subtree: needs a name`},
		{"/cache?names=example.com", `names: unknown parameter`},
		{"/cache?name=a.com&name=b.com", `name: given 2 times`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			w := get(t, admin.Handler(), tc.path, "")
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			var got ErrorJSON
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("not a JSON error: %v: %s", err, w.Body)
			}
			if !strings.Contains(got.Error, tc.wantError) {
				t.Errorf("error %q, want it to contain %q", got.Error, tc.wantError)
			}
		})
	}
}

func TestAdminCacheFlush(t *testing.T) {
	type flushCase struct {
		name        string
		method      string // "": POST
		path        string
		wantCode    int
		wantFlushed int
		wantLeft    []string // names still cached
	}
	tests := []flushCase{
		{name: "everything", path: "/cache/flush", wantCode: http.StatusOK, wantFlushed: 11},
		{name: "one name", path: "/cache/flush?name=www.example.com", wantCode: http.StatusOK, wantFlushed: 2,
			wantLeft: []string{"example.com.", "nope.example.com.", "short.example.com.", "www.example.org."}},
		{name: "one name, not below it", path: "/cache/flush?name=example.com.", wantCode: http.StatusOK, wantFlushed: 3,
			wantLeft: []string{"nope.example.com.", "short.example.com.", "www.example.com.", "www.example.org."}},
		{name: "subtree", path: "/cache/flush?name=Example.COM&subtree=1", wantCode: http.StatusOK, wantFlushed: 9,
			wantLeft: []string{"www.example.org."}},
		{name: "subtree of the root", path: "/cache/flush?name=.&subtree=true", wantCode: http.StatusOK, wantFlushed: 11},
		{name: "a name not cached", path: "/cache/flush?name=nothing.test", wantCode: http.StatusOK, wantFlushed: 0,
			wantLeft: []string{"example.com.", "nope.example.com.", "short.example.com.", "www.example.com.", "www.example.org."}},
	}
	untouched := []string{"example.com.", "nope.example.com.", "short.example.com.", "www.example.com.", "www.example.org."}
	for _, bad := range []struct{ name, method, path string }{
		{"GET is not allowed", http.MethodGet, "/cache/flush"},
		{"malformed name", http.MethodPost, "/cache/flush?name=a..b"},
		{"empty name", http.MethodPost, "/cache/flush?name="},
		{"subtree without a name", http.MethodPost, "/cache/flush?subtree=1"},
		{"unknown parameter", http.MethodPost, "/cache/flush?zone=www.example.com"},
		{"filter parameters are not for flushing", http.MethodPost, "/cache/flush?name=example.com&type=A"},
		{"bad subtree", http.MethodPost, "/cache/flush?name=example.com&subtree=maybe"},
	} {
		code := http.StatusBadRequest
		if bad.method == http.MethodGet {
			code = http.StatusMethodNotAllowed
		}
		tests = append(tests, flushCase{name: bad.name, method: bad.method, path: bad.path, wantCode: code, wantLeft: untouched})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, clock := cacheFixture(t)
			admin := NewAdmin(AdminOptions{Cache: c, Clock: clock})
			method := cmp.Or(tc.method, http.MethodPost)
			w := request(t, admin.Handler(), method, tc.path, "")
			if w.Code != tc.wantCode {
				t.Fatalf("%s %s: status %d, want %d: %s", method, tc.path, w.Code, tc.wantCode, w.Body)
			}
			if w.Code == http.StatusOK {
				var got CacheFlushJSON
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got.Flushed != tc.wantFlushed {
					t.Errorf("flushed %d, want %d", got.Flushed, tc.wantFlushed)
				}
			}
			var left []string
			for _, e := range c.Entries(cache.Filter{}, clock.Now()) {
				left = append(left, e.Name)
			}
			slices.Sort(left)
			if left = slices.Compact(left); !slices.Equal(left, tc.wantLeft) {
				t.Errorf("left cached %q, want %q", left, tc.wantLeft)
			}
			s := c.Stats()
			if flushed := s.Answers.Flushed + s.NameErrors.Flushed + s.RRsets.Flushed; flushed != uint64(tc.wantFlushed) {
				t.Errorf("cache counted %d flushed, want %d", flushed, tc.wantFlushed)
			}
		})
	}
}

func TestAdminWithoutCache(t *testing.T) {
	admin := NewAdmin(AdminOptions{})
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/cache"}, {http.MethodGet, "/cache?name=example.com"}, {http.MethodPost, "/cache/flush"},
	} {
		w := request(t, admin.Handler(), req.method, req.path, "")
		if w.Code != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", req.method, req.path, w.Code)
		}
		var got ErrorJSON
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || !strings.Contains(got.Error, "without") {
			t.Errorf("%s %s: body %s, want a JSON error saying there is no cache", req.method, req.path, w.Body)
		}
	}
	if w := get(t, admin.Handler(), "/stats", ""); strings.Contains(w.Body.String(), `"cache"`) {
		t.Errorf("/stats without a cache: %s", w.Body)
	}
}
