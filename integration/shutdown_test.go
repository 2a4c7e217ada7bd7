package integration

import (
	"encoding/json"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/server"
)

// TestShutdownFinishesQueriesInFlight: a query still being resolved when
// `rootwalk serve` gets SIGTERM is answered before the process exits.
func TestShutdownFinishesQueriesInFlight(t *testing.T) {
	srv := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort)}
	})
	type result struct {
		reply *dns.Msg
		err   error
		took  time.Duration
	}
	done := make(chan result, 1)
	go func() {
		// Every server of dead.com is silent: the resolution takes
		// seconds, and ends in SERVFAIL.
		c := &dns.Client{Timeout: 10 * time.Second}
		q := new(dns.Msg)
		q.SetQuestion("www.dead.com.", dns.TypeA)
		start := time.Now()
		r, _, err := c.Exchange(q, srv.addr.String())
		done <- result{r, err, time.Since(start)}
	}()
	// SIGTERM once the query is being resolved.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var st server.Stats
		if err := json.Unmarshal(httpGet(t, "http://"+srv.admin.String()+"/stats"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Resolutions != nil && st.Resolutions.InFlight > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the query never reached the resolver")
		}
		time.Sleep(10 * time.Millisecond) // polling /stats
	}
	if err := srv.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("the query in flight at SIGTERM got no answer: %v", res.err)
	}
	if res.reply.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL (dead.com has no live server)", dns.RcodeToString[res.reply.Rcode])
	}
	if !srv.p.exited(15 * time.Second) {
		t.Fatal("still running 15 s after SIGTERM")
	}
	t.Logf("answered after %v, during the shutdown", res.took.Round(time.Millisecond))
}
