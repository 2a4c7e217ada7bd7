package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestReloadOnSIGHUP: a SIGHUP makes `rootwalk serve` read its
// configuration again and apply the ACL, the local zones and the log level
// without a restart; a configuration that does not load is reported and
// the running one kept; settings that need a restart are named.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rootwalk.yaml")
	zonesDir := filepath.Join(dir, "zones")
	if err := os.Mkdir(zonesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(file, "acl:\n  allow: [127.0.0.0/8]\nlog:\n  level: info\n")
	srv := startServe(t, func(labPort int) []string {
		return []string{"--lab", "--lab-port", strconv.Itoa(labPort), "--config", file}
	})
	hup := func(want string) {
		t.Helper()
		if err := srv.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		srv.p.waitFor(t, want, 10*time.Second)
	}
	if r := askFull(t, srv.addr, "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("before the reload: %s", dns.RcodeToString[r.Rcode])
	}

	// A local zone appears, and loopback is denied from now on; the log
	// level goes to debug.
	write(filepath.Join(zonesDir, "corp.test.zone"),
		"$ORIGIN corp.test.\n@ 3600 IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ 3600 IN NS ns\nns 3600 IN A 127.0.0.1\nintranet 3600 IN A 127.0.0.7\n")
	write(file, "acl:\n  allow: [127.0.0.0/8]\n  deny: [127.0.0.1/32]\nlocal_zones: "+zonesDir+"\nlog:\n  level: debug\n")
	hup("configuration reloaded")
	if r := askFull(t, srv.addr, "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("after denying loopback: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}

	// Allowed again: the local zone answers.
	write(file, "acl:\n  allow: [127.0.0.0/8]\nlocal_zones: "+zonesDir+"\nlog:\n  level: debug\n")
	hup("configuration reloaded")
	r := askFull(t, srv.addr, "intranet.corp.test.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.7" {
		t.Errorf("the local zone added by the reload: %v", r)
	}
	if !strings.Contains(srv.p.log(), "level=DEBUG") {
		t.Error("no debug line after the log level went to debug")
	}

	// A broken file keeps the running configuration.
	write(file, "acl:\n  allow: [not-a-prefix]\n")
	hup("reload rejected")
	if r := askFull(t, srv.addr, "intranet.corp.test.", dns.TypeA); r.Rcode != dns.RcodeSuccess {
		t.Errorf("after a rejected reload: %s, want the running configuration's answer", dns.RcodeToString[r.Rcode])
	}

	// Reloads while clients ask lose no query.
	write(file, "acl:\n  allow: [127.0.0.0/8]\nlocal_zones: "+zonesDir+"\n")
	done := make(chan int)
	go func() {
		failed := 0
		for range 200 {
			c := &dns.Client{Timeout: 2 * time.Second}
			q := new(dns.Msg)
			q.SetQuestion("intranet.corp.test.", dns.TypeA)
			if r, _, err := c.Exchange(q, srv.addr.String()); err != nil || r.Rcode != dns.RcodeSuccess {
				failed++
			}
		}
		done <- failed
	}()
	for range 5 {
		hup("configuration reloaded")
	}
	if failed := <-done; failed > 0 {
		t.Errorf("%d of 200 queries failed while the configuration was reloaded 5 times", failed)
	}

	// A setting only a restart applies is named.
	write(file, "acl:\n  allow: [127.0.0.0/8]\nlocal_zones: "+zonesDir+"\ncache:\n  size: 5000\n")
	line := func() string {
		if err := srv.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return srv.p.waitFor(t, "wait for a restart", 10*time.Second)
	}()
	if !strings.Contains(line, "Cache") {
		t.Errorf("restart warning %q does not name the cache", line)
	}
}
