package server

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// dohPath is where DNS over HTTPS is served (RFC 8484 section 4.1's
// example, which clients assume).
const dohPath = "/dns-query"

// dohMediaType is the media type of DNS messages over HTTP (RFC 8484
// section 6).
const dohMediaType = "application/dns-message"

// DoHOptions configures a DNS-over-HTTPS listener.
type DoHOptions struct {
	// TLS serves HTTPS (HTTP/2 and HTTP/1.1); nil serves plain HTTP
	// (HTTP/1.1 and HTTP/2 without TLS), for use behind a reverse proxy
	// that terminates TLS.
	TLS *tls.Config
	// TrustedProxies are the peers whose X-Forwarded-For header is
	// believed: for a request from one of them, the client is the last
	// address of the header not itself a trusted proxy. Any other peer's
	// header is ignored (anyone can write one).
	TrustedProxies []netip.Prefix
	// IdleTimeout closes a connection idle this long; 0:
	// DefaultTCPIdleTimeout.
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// HTTPListener answers DNS over HTTPS (RFC 8484) at /dns-query, GET and
// POST. It is safe for concurrent use.
type HTTPListener struct {
	addr netip.AddrPort
	srv  *http.Server
	wg   sync.WaitGroup
	log  *slog.Logger
}

// ListenHTTP binds addr and serves h as DNS over HTTPS until Shutdown.
func ListenHTTP(addr netip.AddrPort, h dns.Handler, opts DoHOptions) (*HTTPListener, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultTCPIdleTimeout
	}
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("listen dns-over-https %s: %w", addr, err)
	}
	d := &doh{h: h, trusted: opts.TrustedProxies, log: opts.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+dohPath, d.serve)
	mux.HandleFunc("POST "+dohPath, d.serve)
	l := &HTTPListener{addr: ln.Addr().(*net.TCPAddr).AddrPort(), log: opts.Logger}
	l.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: DefaultTCPReadTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		Protocols:         new(http.Protocols),
	}
	l.srv.Protocols.SetHTTP1(true)
	if opts.TLS != nil {
		cfg := opts.TLS.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		l.srv.TLSConfig = cfg
		l.srv.Protocols.SetHTTP2(true)
		ln = tls.NewListener(ln, cfg)
	} else {
		l.srv.Protocols.SetUnencryptedHTTP2(true)
	}
	l.wg.Go(func() {
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("serving DNS over HTTPS stopped", "addr", l.addr.String(), "err", err)
		}
	})
	return l, nil
}

// Addr returns the address served, with the port actually bound.
func (l *HTTPListener) Addr() netip.AddrPort { return l.addr }

// Shutdown stops accepting requests and waits for those in flight, or
// closes everything once ctx ends.
func (l *HTTPListener) Shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if err != nil {
		_ = l.srv.Close() // ctx ended: cut what is left
	}
	l.wg.Wait()
	if err != nil {
		return fmt.Errorf("shut down dns-over-https %s: %w", l.addr, err)
	}
	return nil
}

// doh turns HTTP requests into queries for the handler.
type doh struct {
	h       dns.Handler
	trusted []netip.Prefix
	log     *slog.Logger
}

// serve answers one request: the query from GET's dns parameter
// (base64url, RFC 8484 section 4.1) or from POST's body.
func (d *doh) serve(w http.ResponseWriter, r *http.Request) {
	wire, status, err := queryBytes(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	req, reject := parseQuery(wire)
	if req == nil && reject == nil {
		http.Error(w, "not a DNS query", http.StatusBadRequest)
		return
	}
	dw := &keptWriter{remote: net.TCPAddrFromAddrPort(d.client(r)), local: localAddr(r), t: TransportDoH}
	if reject != nil {
		dw.reply = reject
	} else {
		d.h.ServeDNS(dw, req)
	}
	if dw.reply == nil {
		http.Error(w, "refused", http.StatusForbidden) // the handler dropped it on purpose (acl.action: drop)
		return
	}
	out, err := dw.reply.Pack()
	if err != nil {
		d.log.Debug("dns-over-https: pack reply", "err", err)
		http.Error(w, "reply not packable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", dohMediaType)
	w.Header().Set("Cache-Control", cacheControl(dw.reply))
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out) // a client gone away is no error of ours
}

// queryBytes reads the query of a GET or POST request, or says why not
// with an HTTP status.
func queryBytes(r *http.Request) ([]byte, int, error) {
	if r.Method == http.MethodGet {
		q := r.URL.Query().Get("dns")
		if q == "" {
			return nil, http.StatusBadRequest, errors.New("dns parameter missing")
		}
		if len(q) > base64.RawURLEncoding.EncodedLen(maxQuerySize) {
			return nil, http.StatusRequestURITooLong, errors.New("query too long")
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(q, "="))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("dns parameter: %w", err)
		}
		return b, 0, nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.EqualFold(strings.TrimSpace(strings.Split(ct, ";")[0]), dohMediaType) {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q; want %s", ct, dohMediaType)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxQuerySize+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("read query: %w", err)
	}
	if len(b) > maxQuerySize {
		return nil, http.StatusRequestEntityTooLarge, errors.New("query too long")
	}
	return b, 0, nil
}

// client is the address the request came from: the peer, or, from a
// trusted proxy, the last address of X-Forwarded-For that is not a
// trusted proxy itself.
func (d *doh) client(r *http.Request) netip.AddrPort {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.AddrPort{}
	}
	if !inPrefixes(d.trusted, peer.Addr()) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a garbled header: believe only the peer
		}
		if a = a.Unmap(); !inPrefixes(d.trusted, a) {
			return netip.AddrPortFrom(a, 0)
		}
	}
	return peer
}

// localAddr is the address the request reached.
func localAddr(r *http.Request) net.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a
	}
	return &net.TCPAddr{}
}

// cacheControl says how long HTTP caches may keep reply (RFC 8484
// section 5.1): its smallest TTL, for an answer or a negative answer; an
// error, or a reply without records, is not to be kept.
func cacheControl(reply *dns.Msg) string {
	if reply.Rcode != dns.RcodeSuccess && reply.Rcode != dns.RcodeNameError {
		return "no-store"
	}
	least, found := uint32(0), false
	for _, rr := range append(append([]dns.RR(nil), reply.Answer...), reply.Ns...) {
		if t := rr.Header().Ttl; !found || t < least {
			least, found = t, true
		}
	}
	if !found {
		return "no-store"
	}
	return "max-age=" + strconv.FormatUint(uint64(least), 10)
}
