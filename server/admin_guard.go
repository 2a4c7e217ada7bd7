package server

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ConsoleHeader is the header a state-changing request to the admin API
// must carry when it brings no bearer token: the console sends it with
// every request, and curl users add it (-H 'X-Rootwalk-Console: 1'). A
// cross-site HTML form cannot send a custom header, and a cross-site
// script that tries needs a CORS preflight, which the API never grants
// (it sends no CORS headers at all).
const ConsoleHeader = "X-Rootwalk-Console"

// guard protects the admin API from the browser it serves (the console)
// being turned against it:
//
//   - DNS rebinding: a request must name the API by an IP address, by
//     localhost (or a name under .localhost), or by a name the operator
//     listed in AllowedHosts. A rebinding page's requests carry its own
//     name in Host and are refused.
//   - Cross-site requests: a request whose Origin is another site is
//     refused, and one that changes state (any method but GET and HEAD)
//     needs ConsoleHeader or an Authorization header (checked against
//     the token by authorized).
func (a *Admin) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.hostAllowed(r.Host) {
			a.opts.Logger.Warn("admin API: request for a host not allowed", "host", r.Host, "client", r.RemoteAddr)
			http.Error(w, "forbidden: Host "+r.Host+" is not an address of this server; add it to admin.allowed_hosts", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameHost(o, r.Host) {
			http.Error(w, "forbidden: cross-origin request from "+o, http.StatusForbidden)
			return
		}
		// An Authorization header, like ConsoleHeader, is one a cross-site
		// form cannot send; whether its token is right is for authorized.
		if r.Method != http.MethodGet && r.Method != http.MethodHead &&
			r.Header.Get(ConsoleHeader) == "" && r.Header.Get("Authorization") == "" {
			http.Error(w, "forbidden: a request that changes state needs the "+ConsoleHeader+" header or the bearer token", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether host (a Host header, with or without a
// port) names this server in a way a rebinding attack cannot: an IP
// address, localhost, or a configured name.
func (a *Admin) hostAllowed(host string) bool {
	name := hostname(host)
	if name == "" {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	for _, h := range a.opts.AllowedHosts {
		if strings.EqualFold(strings.TrimSuffix(h, "."), name) {
			return true
		}
	}
	return false
}

// hostname strips the port, and an IPv6 address's brackets, from a Host
// header.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// sameHost reports whether origin (scheme://host[:port]) is host.
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}
