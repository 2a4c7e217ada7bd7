package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/trace"
	"github.com/rootwalk/rootwalk/server"
)

// httpGet fetches url and returns the body, failing the test on an error
// or a status other than 200.
func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body
}

// TestMetricsAfterKnownQueries sends a known sequence of queries and checks
// /stats and /metrics exactly: 10 queries for one name (1 walk, 1 cache
// hit, then 8 replies replayed by the fast path, which /stats counts as
// cache hits and /metrics apart), an NXDOMAIN in the same zone, and a
// SERVFAIL from a lame delegation.
func TestMetricsAfterKnownQueries(t *testing.T) {
	s := startStack(t, startLab(t, 0))
	admin := server.NewAdmin(server.AdminOptions{
		Addr: netip.MustParseAddrPort("127.0.0.1:0"), Metrics: s.metrics, Cache: s.cache, Resolver: s.resolver,
	})
	if err := admin.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := admin.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	for range 10 {
		askFull(t, s.addr, "www.example.com.", dns.TypeA)
	}
	askFull(t, s.addr, "nope.example.com.", dns.TypeA)
	askFull(t, s.addr, "www.lame.com.", dns.TypeA)
	base := "http://" + admin.Addr().String()

	var st server.Stats
	if err := json.Unmarshal(httpGet(t, base+"/stats"), &st); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want uint64
	}{
		{"queries.total", st.Queries.Total, 12},
		{"queries.by_type.A", st.Queries.ByType["A"], 12},
		{"queries.by_rcode.NOERROR", st.Queries.ByRcode["NOERROR"], 10},
		{"queries.by_rcode.NXDOMAIN", st.Queries.ByRcode["NXDOMAIN"], 1},
		{"queries.by_rcode.SERVFAIL", st.Queries.ByRcode["SERVFAIL"], 1},
		{"cache.hits", st.Cache.Hits, 9},
		{"cache.misses", st.Cache.Misses, 3},
		{"cache.inserts", st.Cache.Inserts, 2},
		// www.example.com: the root, com., example.com.; nope: example.com.
		// from the cached delegation; www.lame.com: com. again, then the
		// lame server.
		{"upstream.queries", st.Upstream.Queries, 6},
		{"upstream.timeouts", st.Upstream.Timeouts, 0},
		{"queries.replayed", st.Queries.Replayed, 8},
		{"resolutions.total", st.Resolutions.Total, 4},
		{"resolutions.failures", st.Resolutions.Failures, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("/stats %s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if st.Cache.HitRatio != 0.75 {
		t.Errorf("/stats cache.hit_ratio = %v, want 0.75", st.Cache.HitRatio)
	}

	metrics := string(httpGet(t, base+"/metrics"))
	for _, want := range []string{
		`rootwalk_queries_total{qtype="A",rcode="NOERROR"} 10`,
		`rootwalk_queries_total{qtype="A",rcode="NXDOMAIN"} 1`,
		`rootwalk_queries_total{qtype="A",rcode="SERVFAIL"} 1`,
		`rootwalk_query_duration_seconds_count 12`,
		`rootwalk_cache_hits_total{cache="answers"} 1`,
		`rootwalk_replayed_replies_total 8`,
		`rootwalk_cache_misses_total{cache="answers"} 3`,
		`rootwalk_cache_entries{cache="answers"} 2`,
		`rootwalk_upstream_queries_total 6`,
		`rootwalk_upstream_rtt_seconds_count 6`,
		`rootwalk_resolutions_total 4`,
		`rootwalk_resolution_failures_total 1`,
		`rootwalk_resolutions_in_flight 0`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(metrics, "go_goroutines ") {
		t.Error("/metrics lacks go_goroutines")
	}
}

// comparable is what a trace's step says about the walk, leaving out
// which of a zone's equivalent servers happened to be picked.
func comparable(tr *trace.Trace) []string {
	var out []string
	for _, s := range tr.Steps {
		name := ""
		if s.Depth == 0 {
			name = s.Name
		}
		out = append(out, fmt.Sprintf("%s depth=%d zone=%s outcome=%s name=%s", s.Kind, s.Depth, s.Zone, s.Outcome, name))
	}
	return append(out, "rcode="+tr.Rcode, "answer="+strings.Join(tr.Answer, " | "))
}

// TestTraceOfServerMatchesCLI: `rootwalk trace --server ADDR --cold` (the
// running server's /trace?cold=1) and `rootwalk trace --lab` report the same
// steps for the same name.
func TestTraceOfServerMatchesCLI(t *testing.T) {
	srv := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort)}
	})
	for _, name := range []string{"www.example.com", "alias.example.com", "nope.example.com", "big.example.com"} {
		t.Run(name, func(t *testing.T) {
			traceOf := func(args ...string) *trace.Trace {
				out, err := runCommand(t.Context(), rootwalkBin, append(append([]string{"trace", "--json"}, args...), name, "TXT")...)
				if err != nil {
					t.Fatalf("rootwalk trace %v: %v", args, err)
				}
				var tr trace.Trace
				if err := json.Unmarshal([]byte(out), &tr); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return &tr
			}
			remote := comparable(traceOf("--server", srv.admin.String(), "--cold"))
			local := comparable(traceOf("--lab"))
			if strings.Join(remote, "\n") != strings.Join(local, "\n") {
				t.Errorf("steps differ\n--- the server's /trace?cold=1\n%s\n--- rootwalk trace --lab\n%s", strings.Join(remote, "\n"), strings.Join(local, "\n"))
			}
		})
	}
	// Warm, the server answers from what the cold traces did not touch:
	// its own cache, which they left alone, is still empty for this name.
	warm := httpGet(t, "http://"+srv.admin.String()+"/trace?name=www.example.com&type=TXT")
	var tr trace.Trace
	if err := json.Unmarshal(warm, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Steps) == 0 || tr.Steps[0].Kind != "start" || tr.Steps[0].Zone != "." {
		t.Errorf("warm trace after cold ones: %+v; want a walk from the root, the cold traces having left the cache alone", tr.Steps)
	}
}

// TestStatsCommandAndQueryLog: `rootwalk stats` prints a running server's
// /stats, and POST /querylog switches the query log at run time.
func TestStatsCommandAndQueryLog(t *testing.T) {
	srv := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort)}
	})
	askFull(t, srv.addr, "www.example.com.", dns.TypeA)
	if strings.Contains(srv.p.log(), "msg=query") {
		t.Error("a query was logged with the query log off")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+srv.admin.String()+"/querylog?enabled=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(server.ConsoleHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /querylog: %s", resp.Status)
	}
	askFull(t, srv.addr, "www.example.com.", dns.TypeA)
	line := srv.p.waitFor(t, "msg=query", 10*time.Second)
	for _, want := range []string{"client=127.0.0.1", "qname=www.example.com.", "qtype=A", "rcode=NOERROR", "cache=hit"} {
		if !strings.Contains(line, want) {
			t.Errorf("query log line %q lacks %q", line, want)
		}
	}

	out, err := runCommand(t.Context(), rootwalkBin, "stats", "--admin", srv.admin.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"queries      2 answered   NOERROR 2", "hit ratio 50.0% (1 hits, 1 misses)", "query log    on"} {
		if !strings.Contains(out, want) {
			t.Errorf("rootwalk stats lacks %q:\n%s", want, out)
		}
	}
}
