package server

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// QueryLog writes one line per answered query (client, name, type, rcode,
// latency, whether the cache answered) when enabled. It can be switched at
// run time (POST /querylog?enabled=1|0). It is safe for concurrent use.
type QueryLog struct {
	enabled atomic.Bool
	log     *slog.Logger
}

// NewQueryLog returns a query log writing to log, on or off.
func NewQueryLog(log *slog.Logger, enabled bool) *QueryLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &QueryLog{log: log}
	q.enabled.Store(enabled)
	return q
}

// Enabled reports whether queries are logged.
func (q *QueryLog) Enabled() bool { return q != nil && q.enabled.Load() }

// SetEnabled switches the query log on or off.
func (q *QueryLog) SetEnabled(on bool) { q.enabled.Store(on) }

// write logs one answered query; cached is "hit" (from the cache alone),
// "miss" (upstream queries were needed), "stale" (an expired cached answer,
// RFC 8767) or "" when no resolution happened (refused, malformed).
func (q *QueryLog) write(client netip.Addr, question dns.Question, rcode int, took time.Duration, cached string) {
	q.log.LogAttrs(context.Background(), slog.LevelInfo, "query",
		slog.String("client", client.String()),
		slog.String("qname", question.Name),
		slog.String("qtype", dns.TypeToString[question.Qtype]),
		slog.String("rcode", rcodeName(rcode)),
		slog.Duration("duration", took),
		slog.String("cache", cached),
	)
}
