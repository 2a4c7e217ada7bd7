package server

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/cache"
)

// AdminCache is what the admin API reads of the cache and does to it:
// its counters, its entries (GET /cache) and flushing (POST /cache/flush).
type AdminCache interface {
	CacheStats
	// Entries lists the entries f selects, with their TTLs left at now.
	Entries(f cache.Filter, now time.Time) []cache.Entry
	// Flush removes every entry, FlushName the entries at name, and
	// FlushSubtree those at name and below; each returns how many.
	CacheFlusher
}

// CacheFlusher is what flushing needs of a cache.
type CacheFlusher interface {
	Flush() int
	FlushName(name string) int
	FlushSubtree(name string) int
}

// FlushScope flushes name from c, and the names below it with subtree;
// an empty name flushes everything. It returns how many entries went.
// The admin API's POST /cache/flush and a flush another instance of a
// fleet sends both come here.
func FlushScope(c CacheFlusher, name string, subtree bool) int {
	switch {
	case name == "":
		return c.Flush()
	case subtree:
		return c.FlushSubtree(name)
	default:
		return c.FlushName(name)
	}
}

// Bounds of GET /cache's limit parameter: a page a person can read by
// default, and a reply that stays a few megabytes at most.
const (
	defaultCacheLimit = 100
	maxCacheLimit     = 10_000
)

// cacheKinds are the values of GET /cache's kind parameter.
var cacheKinds = []string{"answer", "nxdomain", "rrset"}

// CacheListJSON is the reply to GET /cache.
type CacheListJSON struct {
	Entries []cache.Entry `json:"entries"` // most recently used first
	Count   int           `json:"count"`   // len(Entries)
	// Truncated is set when more entries matched than the limit let through.
	Truncated bool `json:"truncated"`
}

// CacheFlushJSON is the reply to POST /cache/flush.
type CacheFlushJSON struct {
	Flushed int `json:"flushed"` // entries removed from this instance's cache
	// Shared is what the flush did to the fleet's shared cache, when
	// there is one.
	Shared *SharedFlushJSON `json:"shared,omitempty"`
}

// ErrorJSON is the body of an error reply from /cache and /cache/flush.
type ErrorJSON struct {
	Error string `json:"error"`
}

// errNoCache is the reply to /cache requests on a server without a cache.
var errNoCache = errors.New("cache: this server runs without one")

// listCache serves GET /cache?name=N[&subtree=1][&type=T][&kind=K][&stale=1][&limit=N]:
// the entries the filter selects, with their remaining TTLs, most
// recently used first.
func (a *Admin) listCache(w http.ResponseWriter, r *http.Request) {
	if a.opts.Cache == nil {
		a.writeError(w, http.StatusNotFound, errNoCache)
		return
	}
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		a.writeError(w, http.StatusBadRequest, err)
		return
	}
	limit := f.Limit
	f.Limit++ // one more than shown tells whether there were more
	out := CacheListJSON{Entries: a.opts.Cache.Entries(f, a.opts.Clock.Now())}
	if len(out.Entries) > limit {
		out.Entries, out.Truncated = out.Entries[:limit], true
	}
	if out.Entries == nil {
		out.Entries = []cache.Entry{} // [] rather than null for clients
	}
	out.Count = len(out.Entries)
	writeJSON(w, a.opts.Logger, out)
}

// flushCache serves POST /cache/flush[?name=N[&subtree=1]]: it removes
// every entry, those at one name, or those at a name and below it.
func (a *Admin) flushCache(w http.ResponseWriter, r *http.Request) {
	if a.opts.Cache == nil {
		a.writeError(w, http.StatusNotFound, errNoCache)
		return
	}
	v := r.URL.Query()
	// Strict, because a misspelt parameter would otherwise flush everything.
	if err := checkParams(v, "name", "subtree"); err != nil {
		a.writeError(w, http.StatusBadRequest, err)
		return
	}
	name, subtree, err := parseScope(v)
	if err != nil {
		a.writeError(w, http.StatusBadRequest, err)
		return
	}
	n := FlushScope(a.opts.Cache, name, subtree)
	if a.opts.OnFlush != nil {
		a.opts.OnFlush()
	}
	a.opts.Logger.Info("cache flushed", "zone", name, "subtree", subtree, "entries", n)
	out := CacheFlushJSON{Flushed: n, Shared: a.flushShared(r, name, subtree)}
	status := http.StatusOK
	if out.Shared != nil && out.Shared.Error != "" {
		status = http.StatusBadGateway // this instance is flushed; the fleet may not be
	}
	writeJSONStatus(w, a.opts.Logger, status, out)
}

// parseFilter reads GET /cache's parameters.
func parseFilter(v url.Values) (cache.Filter, error) {
	if err := checkParams(v, "name", "subtree", "type", "kind", "stale", "limit"); err != nil {
		return cache.Filter{}, err
	}
	name, subtree, err := parseScope(v)
	if err != nil {
		return cache.Filter{}, err
	}
	f := cache.Filter{Name: name, Subtree: subtree, Limit: defaultCacheLimit}
	if t := v.Get("type"); t != "" {
		if f.Type, err = parseType(t); err != nil {
			return cache.Filter{}, err
		}
	}
	if k := v.Get("kind"); k != "" {
		if f.Kind = strings.ToLower(k); !slices.Contains(cacheKinds, f.Kind) {
			return cache.Filter{}, fmt.Errorf("kind: %q is not a kind of entry; want %s", k, strings.Join(cacheKinds, ", "))
		}
	}
	if f.Stale, err = boolValue(v, "stale"); err != nil {
		return cache.Filter{}, err
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxCacheLimit {
			return cache.Filter{}, fmt.Errorf("limit: %q is not a number from 1 to %d", l, maxCacheLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// parseScope reads the name and subtree parameters: name, fully
// qualified, is "" when absent (everything).
func parseScope(v url.Values) (name string, subtree bool, err error) {
	if subtree, err = boolValue(v, "subtree"); err != nil {
		return "", false, err
	}
	if !v.Has("name") {
		if subtree {
			return "", false, errors.New("subtree: needs a name; leave both out for the whole cache")
		}
		return "", false, nil
	}
	name = v.Get("name")
	if name == "" {
		return "", false, errors.New("name: empty; want a domain name such as example.com, or leave name out for the whole cache")
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return "", false, fmt.Errorf("name: %q is not a domain name; want one such as example.com", name)
	}
	return dns.Fqdn(name), subtree, nil
}

// parseType reads a record type by its mnemonic (A, mx) or in the
// generic form of RFC 3597 section 5 (TYPE65280).
func parseType(s string) (uint16, error) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok && t != dns.TypeNone {
		return t, nil
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if t, err := strconv.ParseUint(n, 10, 16); err == nil && t != 0 {
			return uint16(t), nil
		}
	}
	return 0, fmt.Errorf("type: %q is not a record type; want one such as A, AAAA, MX, NS or TYPE65280", s)
}

// checkParams rejects parameters other than those allowed, and any given
// more than once.
func checkParams(v url.Values, allowed ...string) error {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s: unknown parameter; want %s", k, strings.Join(allowed, ", "))
		}
		if len(v[k]) > 1 {
			return fmt.Errorf("%s: given %d times; want it once", k, len(v[k]))
		}
	}
	return nil
}

// boolValue reads an optional 1/0 (or true/false) parameter.
func boolValue(v url.Values, name string) (bool, error) {
	s := v.Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not 1, 0, true or false", name, s)
	}
	return b, nil
}

// writeError sends err as a JSON error reply with status.
func (a *Admin) writeError(w http.ResponseWriter, status int, err error) {
	writeJSONStatus(w, a.opts.Logger, status, ErrorJSON{Error: err.Error()})
}
