package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/server"
)

// screenshotEnv, when set, is where TestConsole saves its screenshot of
// a trace (the README's is made so: RWTEST_CONSOLE_SCREENSHOT=docs/console-trace.png);
// otherwise it goes to the test's temporary directory.
const screenshotEnv = "RWTEST_CONSOLE_SCREENSHOT"

// browser starts Debian's headless Chromium for the test, with nothing
// that would reach beyond loopback, and returns a context driving it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := dnstest.Program(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Debian's chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// do runs browser actions within a deadline, failing the test on error.
// The browser's first action must not run under a deadline (it would end
// the browser with it): startBrowsing does that one.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one browser action that returns a value, within a deadline.
func value[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// cachedCount asks the admin API how many entries it holds at name.
func cachedCount(t *testing.T, admin, name string) int {
	t.Helper()
	var v server.CacheListJSON
	if err := json.Unmarshal([]byte(adminGet(t, admin, "/cache?name="+name)), &v); err != nil {
		t.Fatal(err)
	}
	return v.Count
}

// adminGet GETs path from the admin API and returns the body.
func adminGet(t *testing.T, admin, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+admin+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// noKeepAlive keeps no idle connections, whose goroutines would outlive
// the test (TestMain checks for leaks).
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// TestConsole drives the web console in headless Chromium against
// `rootwalk serve --lab`: a trace of a CNAME chain across three zones is
// drawn with a root, a TLD and the final zone's server and the answer; a
// step shows its messages; the cache view finds the name and flushes it;
// the live view's QPS moves while queries are sent; and a cross-site page
// that posts a flush without the console's header is refused.
func TestConsole(t *testing.T) {
	ctx := browser(t)
	srv := startServe(t, func(labPort int) []string { return []string{"--lab", "--lab-port", strconv.Itoa(labPort)} })
	admin := srv.admin.String()
	base := "http://" + admin + "/"

	// The trace view: a cold trace of a CNAME chain across three zones.
	// The first action starts the browser, for the test's whole length.
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatalf("open the console: %v", err)
	}
	do(t, ctx, "trace alias.example.com",
		chromedp.WaitVisible(chromedp.CSS("#trace-name")),
		chromedp.SetValue(chromedp.CSS("#trace-name"), "alias.example.com"),
		chromedp.Click(chromedp.CSS("#trace-run")),
		chromedp.WaitVisible(chromedp.CSS(`#trace-status[data-state="done"]`)),
	)
	drawing := value(t, ctx, "read the drawing", chromedp.Evaluate[string](
		`document.getElementById("trace-drawing").textContent + "\n" + document.getElementById("trace-answer").textContent`))
	for what, pattern := range map[string]string{
		"a root server":             `[a-m]\.root-servers\.net\.`,
		"a TLD server":              `[a-z]\.gtld-servers\.net\.|ns\d\.nic\.org\.`,
		"the final zone's server":   `ns\d\.cdnprovider\.net\.`,
		"the CNAME restart":         `www\.example\.org\.`,
		"the answer":                `192\.0\.2\.80`,
		"the name asked, in a step": `alias\.example\.com\.`,
	} {
		if !regexp.MustCompile(pattern).MatchString(drawing) {
			t.Errorf("the drawing does not show %s (%s):\n%s", what, pattern, drawing)
		}
	}
	do(t, ctx, "click a step",
		chromedp.Click(chromedp.CSS(`#trace-drawing g.arrow`)),
		chromedp.WaitVisible(chromedp.CSS(`#step-detail`)),
	)
	detail := value(t, ctx, "read the step", chromedp.Text(chromedp.CSS(`#step-detail`)))
	do(t, ctx, "scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	shot := value(t, ctx, "take a screenshot", chromedp.CaptureScreenshot())
	for _, want := range []string{";; opcode: QUERY", ";; QUESTION SECTION:", ";; AUTHORITY SECTION:"} {
		if !strings.Contains(detail, want) {
			t.Errorf("a clicked step does not show its reply whole (no %q):\n%s", want, detail)
		}
	}
	file := os.Getenv(screenshotEnv)
	if file == "" {
		file = filepath.Join(t.TempDir(), "console-trace.png")
	} else if !filepath.IsAbs(file) {
		file = filepath.Join("..", file) // relative to the repository, not this folder
	}
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", file, len(shot))

	// The cache view: the name, cached by a client's query, found and flushed.
	if reply := ask(t, srv.addr, "udp", "alias.example.com.", dns.TypeA); len(reply.Answer) == 0 {
		t.Fatalf("alias.example.com: %v", reply)
	}
	entries := `document.querySelectorAll('#cache-entries tr.cache-entry[data-name="alias.example.com."]').length`
	do(t, ctx, "search the cache",
		chromedp.Click(chromedp.CSS("#tab-cache")),
		chromedp.WaitVisible(chromedp.CSS("#cache-name")),
		chromedp.SetValue(chromedp.CSS("#cache-name"), "alias.example.com"),
		chromedp.Click(chromedp.CSS("#cache-search")),
		chromedp.WaitVisible(chromedp.CSS(`#cache-status[data-state="done"]`)),
	)
	if rows := value(t, ctx, "count the rows", chromedp.Evaluate[int](entries)); rows == 0 {
		t.Fatal("the cache view does not list alias.example.com")
	}
	do(t, ctx, "flush the name",
		chromedp.RemoveAttribute(chromedp.CSS("#cache-status"), "data-state"),
		chromedp.Click(chromedp.CSS("#cache-flush-name")),
		chromedp.WaitVisible(chromedp.CSS(`#cache-status[data-state="done"]`)),
	)
	rows := value(t, ctx, "count the rows", chromedp.Evaluate[int](entries))
	if rows != 0 || cachedCount(t, admin, "alias.example.com") != 0 {
		t.Errorf("after the flush, the view lists %d rows and the API %d entries for alias.example.com, want none",
			rows, cachedCount(t, admin, "alias.example.com"))
	}

	// The live view: QPS moves while queries are sent.
	do(t, ctx, "open the live view",
		chromedp.Click(chromedp.CSS("#tab-live")),
		chromedp.WaitVisible(chromedp.CSS("#live-qps")),
		chromedp.Sleep(2500*time.Millisecond), // two polls with nothing asked
	)
	idle := value(t, ctx, "read the QPS", chromedp.Text(chromedp.CSS("#live-qps")))
	var busy string
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			m := new(dns.Msg).SetQuestion(fmt.Sprintf("live%d.wild.example.com.", i%50), dns.TypeA)
			_, _, _ = c.Exchange(m, srv.addr.String()) // the count, not the answer, is what the view shows
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		busy = value(t, ctx, "read the QPS", chromedp.Text(chromedp.CSS("#live-qps")))
		if v, err := strconv.ParseFloat(strings.TrimSpace(busy), 64); err == nil && v > 0 {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			<-done
			t.Fatalf("the live view's QPS stayed %q while queries were sent (idle: %q)", busy, idle)
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	<-done
	if v, err := strconv.ParseFloat(strings.TrimSpace(idle), 64); err != nil || v != 0 {
		t.Errorf("idle QPS = %q, want 0", idle)
	}
	t.Logf("live QPS: %s idle, %s while asking", idle, busy)

	// A cross-site page posting a flush (a form, and a no-cors fetch)
	// without the console's header is refused: the cache keeps the name.
	if reply := ask(t, srv.addr, "udp", "www.example.com.", dns.TypeA); len(reply.Answer) == 0 {
		t.Fatalf("www.example.com: %v", reply)
	}
	flushURL := "http://" + admin + "/cache/flush?name=www.example.com"
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><iframe name="sink"></iframe>
<form id="f" method="POST" target="sink" action="%s"><input name="x" value="1"></form>
<script>
fetch(%q, {method: "POST", mode: "no-cors"}).finally(() => {
  document.getElementById("f").submit();
  setTimeout(() => { document.title = "sent"; }, 500);
});
</script>`, flushURL, flushURL)
	}))
	t.Cleanup(attacker.Close)
	do(t, ctx, "visit a cross-site page", chromedp.Navigate(attacker.URL))
	value(t, ctx, "wait for its requests", chromedp.Poll[bool](`document.title === "sent"`, chromedp.WithPollingTimeout(20*time.Second)))
	if n := cachedCount(t, admin, "www.example.com"); n == 0 {
		t.Error("a cross-site page flushed www.example.com from the cache")
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, flushURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without %s: status %d, want 403", server.ConsoleHeader, resp.StatusCode)
	}
}
