package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/server"
)

func newStatsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print a running server's statistics (from its admin API)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if !cfg.Admin.Enabled() {
				return usageError{errors.New("admin.listen: empty; want the ADDR:PORT of the server's admin API (--admin)")}
			}
			var s server.Stats
			if err := getJSON(cmd.Context(), cfg.Admin.Listen.String(), "/stats", cfg.Admin.Token, &s); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			return writeStats(cmd.OutOrStdout(), cfg.Admin.Listen.String(), &s)
		},
	}
	config.RegisterFlags(cmd.Flags(), "admin.listen", "admin.token")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print /stats as JSON")
	return cmd
}

// writeStats prints /stats for a person.
func writeStats(w io.Writer, addr string, s *server.Stats) error {
	var b strings.Builder
	up := time.Duration(s.UptimeSeconds * float64(time.Second)).Round(time.Second)
	fmt.Fprintf(&b, "rootwalk at %s, up %s\n\n", addr, up)
	fmt.Fprintf(&b, "%-12s %d answered   %s\n", "queries", s.Queries.Total, counts(s.Queries.ByRcode))
	fmt.Fprintf(&b, "%-12s %s\n", "", counts(s.Queries.ByType))
	if by := nonZero(s.Queries.ByTransport); len(by) > 0 {
		fmt.Fprintf(&b, "%-12s %s\n", "", counts(by))
	}
	fmt.Fprintf(&b, "%-12s %s\n", "latency", percentiles(s.LatencyMS))
	if c := s.Cache; c != nil {
		fmt.Fprintf(&b, "%-12s %d entries (%s), hit ratio %.1f%% (%d hits, %d misses), %d evictions, %d expired\n",
			"cache", c.Entries, bytesText(c.Bytes), 100*c.HitRatio, c.Hits, c.Misses, c.Evictions, c.Expired)
		fmt.Fprintf(&b, "%-12s rrsets: %d entries, %d hits, %d misses; nxdomain: %d entries\n", "",
			c.RRsets.Entries, c.RRsets.Hits, c.RRsets.Misses, c.NameErrors.Entries)
	}
	if r := s.Resolutions; r != nil {
		fmt.Fprintf(&b, "%-12s %d, %d failed, %d in flight\n", "resolutions", r.Total, r.Failures, r.InFlight)
	}
	if u := s.Upstream; u != nil {
		fmt.Fprintf(&b, "%-12s %d queries, %d timeouts, %d TCP fallbacks, %d errors; rtt %s\n",
			"upstream", u.Queries, u.Timeouts, u.TCPFallbacks, u.Errors, percentiles(u.RTTMS))
	}
	if r := s.Redis; r != nil {
		fmt.Fprintf(&b, "%-12s breaker %s; hit ratio %.1f%% (%d hits, %d stale, %d misses, %d errors, %d skipped while open); get %s\n",
			"redis", r.Breaker, 100*r.HitRatio, r.Hits, r.Stale, r.Misses, r.Errors, r.Rejected, percentiles(r.GetMS))
		fmt.Fprintf(&b, "%-12s writes: %d written, %d failed, %d dropped; flushes: %d sent, %d received\n", "",
			r.Writes.Written, r.Writes.Failed, r.Writes.Dropped, r.FlushesSent, r.FlushesReceived)
	}
	ql := "off"
	if s.QueryLog {
		ql = "on"
	}
	fmt.Fprintf(&b, "%-12s %s\n", "query log", ql)
	_, err := io.WriteString(w, b.String())
	return err
}

// nonZero returns the entries of m that are not 0.
func nonZero(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// counts renders a map of counts as "KEY n" pairs, largest first.
func counts(m map[string]uint64) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b]) - int(m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, "  ")
}

func percentiles(p server.Percentiles) string {
	return fmt.Sprintf("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms", p.P50, p.P90, p.P99)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
