// Package fleettest starts a fleet on loopback for the integration tests
// and the fleet benchmark: rootwalk instances (the binary, as an operator
// runs it) against a lab the test runs, optionally sharing a real
// redis-server, behind a real dnsdist configured by deploy/dnsdist.conf.
// Everything is stopped when the test ends. Only tests import it.
package fleettest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/internal/proctest"
	"github.com/rootwalk/rootwalk/internal/redistest"
	"github.com/rootwalk/rootwalk/server"
	"github.com/rootwalk/rootwalk/zones"
)

// Options says what fleet to start.
type Options struct {
	Rootwalk  string     // the rootwalk binary
	Lab       *zones.Lab // the lab the instances resolve against
	Instances int        // how many; 0: 3
	// Redis gives the instances a shared cache in a redis-server of their
	// own; Seed is its cache.redis.seed.
	Redis bool
	Seed  string
	// Dnsdist puts dnsdist in front, with Policy ("": chashed).
	Dnsdist bool
	Policy  string
	// Args are added to every instance's command line.
	Args []string
}

// Fleet is a started fleet.
type Fleet struct {
	Instances []*Instance
	Redis     *redistest.Server // nil without Options.Redis
	// Addr is where dnsdist answers, and Web its API; zero without
	// Options.Dnsdist.
	Addr, Web netip.AddrPort
	dnsdist   *proctest.Process
}

// APIKey is the key of dnsdist's web API in the fleet's configuration.
const APIKey = "fleettest"

// Instance is one rootwalk of a fleet.
type Instance struct {
	Name  string         // its server.identity: rw1, rw2, ...
	Addr  netip.AddrPort // DNS, UDP and TCP
	Admin netip.AddrPort // its admin API
	proc  *proctest.Process
}

// Start starts the fleet opts describe and waits until every part is
// ready: each instance has primed its roots, and dnsdist sees each up.
func Start(t testing.TB, opts Options) *Fleet {
	t.Helper()
	if opts.Instances == 0 {
		opts.Instances = 3
	}
	dir := t.TempDir()
	hints := filepath.Join(dir, "lab.root")
	anchor := filepath.Join(dir, "lab.anchor")
	text, err := zones.LabAnchor()
	if err != nil {
		t.Fatal(err)
	}
	for file, content := range map[string]string{hints: opts.Lab.Hints(), anchor: text} {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := &Fleet{}
	if opts.Redis {
		f.Redis = redistest.Start(t)
	}
	for i := range opts.Instances {
		name := "rw" + strconv.Itoa(i+1)
		args := []string{"serve", "--root-hints", hints, "--upstream-port", strconv.Itoa(opts.Lab.Port()),
			"--dnssec-trust-anchor", anchor, "--server-identity", name}
		if f.Redis != nil {
			args = append(args, "--cache-redis-addr", f.Redis.String(), "--cache-redis-seed", opts.Seed)
		}
		f.Instances = append(f.Instances, startInstance(t, opts.Rootwalk, name, append(args, opts.Args...)))
	}
	if opts.Dnsdist {
		f.startDnsdist(t, opts.Policy)
	}
	return f
}

// startInstance starts one rootwalk, retrying on ports taken meanwhile.
func startInstance(t testing.TB, bin, name string, args []string) *Instance {
	t.Helper()
	var last string
	for range 5 {
		in := &Instance{Name: name, Addr: dnstest.FreeAddr(t), Admin: dnstest.FreeAddr(t)}
		all := append([]string{args[0], "--listen", in.Addr.String(), "--admin-listen", in.Admin.String()}, args[1:]...)
		in.proc = proctest.Start(t, nil, bin, all...)
		if in.proc.WaitFor("roots primed", 60*time.Second) {
			return in
		}
		last = in.proc.Output()
		in.proc.Stop(t)
		if !strings.Contains(last, "address already in use") {
			break
		}
	}
	t.Fatalf("rootwalk %s did not start:\n%s", name, last)
	return nil
}

// Stats reads the instance's /stats.
func (in *Instance) Stats(t testing.TB) server.Stats {
	t.Helper()
	var s server.Stats
	if err := getJSON(t, "http://"+in.Admin.String()+"/stats", nil, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Stop stops the instance with SIGTERM, as an operator would, and waits.
func (in *Instance) Stop(t testing.TB) { in.proc.Stop(t) }

// dnsdistConf is deploy/dnsdist.conf, found from this file's folder.
func dnsdistConf(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find deploy/dnsdist.conf")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "dnsdist.conf")
}

// startDnsdist runs dnsdist with deploy/dnsdist.conf in front of the
// instances and waits until it sees every one up.
func (f *Fleet) startDnsdist(t testing.TB, policy string) {
	t.Helper()
	bin := dnstest.Program(t, "dnsdist")
	var backends []string
	for _, in := range f.Instances {
		backends = append(backends, in.Addr.String())
	}
	if policy == "" {
		policy = "chashed"
	}
	for range 5 {
		f.Addr, f.Web = dnstest.FreeAddr(t), dnstest.FreeAddr(t)
		env := []string{"FLEET_LISTEN=" + f.Addr.String(), "FLEET_BACKENDS=" + strings.Join(backends, ","),
			"FLEET_POLICY=" + policy, "FLEET_WEB=" + f.Web.String(), "FLEET_API_KEY=" + APIKey}
		f.dnsdist = proctest.Start(t, env, bin, "--supervised", "--disable-syslog", "-C", dnsdistConf(t))
		if f.WaitUp(t, len(f.Instances), 30*time.Second) {
			return
		}
		out := f.dnsdist.Output()
		f.dnsdist.Stop(t)
		if !strings.Contains(out, "already in use") {
			t.Fatalf("dnsdist did not see the %d instances up within 30 s:\n%s", len(f.Instances), out)
		}
	}
	t.Fatal("dnsdist did not start in 5 attempts")
}

// backendJSON is what the fleet reads of a server in dnsdist's API.
type backendJSON struct {
	Name    string  `json:"name"`
	State   string  `json:"state"`
	Queries float64 `json:"queries"`
}

// Backends returns dnsdist's view of the instances: name, state (up,
// down) and queries sent.
func (f *Fleet) Backends(t testing.TB) []backendJSON {
	t.Helper()
	b, err := f.backends(t)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *Fleet) backends(t testing.TB) ([]backendJSON, error) {
	var v struct {
		Servers []backendJSON `json:"servers"`
	}
	err := getJSON(t, "http://"+f.Web.String()+"/api/v1/servers/localhost", map[string]string{"X-API-Key": APIKey}, &v)
	return v.Servers, err
}

// WaitState waits until dnsdist reports the instance named name (rw1...)
// in state (up, down), and reports whether it did within timeout.
func (f *Fleet) WaitState(t testing.TB, in *Instance, state string, timeout time.Duration) bool {
	t.Helper()
	i := slices.Index(f.Instances, in)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := f.backends(t); err == nil && i < len(b) && strings.EqualFold(b[i].State, state) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// WaitUp waits until dnsdist counts n instances up, and reports whether
// it did within timeout.
func (f *Fleet) WaitUp(t testing.TB, n int, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && f.dnsdist.Running() {
		backends, err := f.backends(t)
		if err != nil {
			time.Sleep(50 * time.Millisecond) // not listening yet
			continue
		}
		up := 0
		for _, b := range backends {
			if strings.EqualFold(b.State, "up") {
				up++
			}
		}
		if up == n {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// httpClient keeps no idle connections, whose goroutines would outlive
// the test (the integration tests check for leaks).
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// getJSON GETs url with headers and decodes its JSON body into v.
func getJSON(t testing.TB, url string, headers map[string]string, v any) error {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// String names the fleet's parts, for logs.
func (f *Fleet) String() string {
	var parts []string
	for _, in := range f.Instances {
		parts = append(parts, fmt.Sprintf("%s at %v (admin %v)", in.Name, in.Addr, in.Admin))
	}
	if f.Redis != nil {
		parts = append(parts, "redis at "+f.Redis.String())
	}
	if f.Addr.IsValid() {
		parts = append(parts, "dnsdist at "+f.Addr.String())
	}
	return strings.Join(parts, ", ")
}

// Cached returns how many entries the instance's cache holds at name
// (GET /cache?name=N).
func (in *Instance) Cached(t testing.TB, name string) int {
	t.Helper()
	var v server.CacheListJSON
	if err := getJSON(t, "http://"+in.Admin.String()+"/cache?name="+url.QueryEscape(name), nil, &v); err != nil {
		t.Fatal(err)
	}
	return v.Count
}

// Flush asks the instance to flush (POST /cache/flush?query) and returns
// its reply, failing the test unless the status is 200.
func (in *Instance) Flush(t testing.TB, query string) server.CacheFlushJSON {
	t.Helper()
	u := "http://" + in.Admin.String() + "/cache/flush"
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(server.ConsoleHeader, "1")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	var v server.CacheFlushJSON
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s, %+v, %v", u, resp.Status, v, err)
	}
	return v
}
