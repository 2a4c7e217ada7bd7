package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/resolver/trace"
	"github.com/rootwalk/rootwalk/zones"
)

// httpTimeout bounds a request to a running server's admin API.
const httpTimeout = 30 * time.Second

// traceFlags are the trace command's own options, beside the settings.
type traceFlags struct {
	json   bool
	server string
	cold   bool
	seed   uint64
}

func newTraceCommand() *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace NAME [TYPE]",
		Short: "Resolve one name from the roots and show every step of the walk",
		Long: `Resolve one name from the root servers, in this process and with an empty cache,
and print the walk as a tree: each zone asked, by which server, how long it took
and what it answered (a referral one level down, an answer, NXDOMAIN, ...), the
glueless servers resolved on the side, the CNAMEs followed, and the final answer.

With --lab, the walk runs against a private copy of the lab on a free port. With
--server, the trace comes from a running rootwalk's admin API instead (its /trace),
warm (through its cache) or, with --cold, with an empty cache of its own.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("%s: want NAME and an optional TYPE, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := questionArgs(args)
			if err != nil {
				return usageError{err}
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if f.cold && f.server == "" {
				return usageError{errors.New("--cold: only with --server; a local trace always starts with an empty cache")}
			}
			return runTrace(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg, f, q)
		},
	}
	config.RegisterFlags(cmd.Flags(), "root_hints", "upstream_port", "ipv6", "qname_minimisation", "upstream.allow_private",
		"forward_zones", "stub_zones", "local_zones", "lab.enabled", "admin.token", "log.level", "log.format")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the trace as JSON")
	cmd.Flags().StringVar(&f.server, "server", "", "trace on the running rootwalk whose admin API is at `ADDR:PORT`")
	cmd.Flags().BoolVar(&f.cold, "cold", false, "with --server: resolve with an empty cache instead of through the server's")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "fix the random choices (server order, query IDs) to `N`, so a walk can be repeated")
	return cmd
}

// questionArgs reads NAME and TYPE (default A).
func questionArgs(args []string) (dns.Question, error) {
	qtype := ""
	if len(args) == 2 {
		qtype = args[1]
	}
	return trace.Question(args[0], qtype)
}

func runTrace(ctx context.Context, stdout, stderr io.Writer, cfg *config.Config, f traceFlags, q dns.Question) error {
	var (
		t   *trace.Trace
		err error
	)
	if f.server != "" {
		t, err = remoteTrace(ctx, f.server, cfg.Admin.Token, q, f.cold)
	} else {
		t, err = localTrace(ctx, stderr, cfg, f.seed, q)
	}
	if err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(t)
	} else {
		err = trace.WriteText(stdout, t, trace.TextOptions{Color: isTerminal(stdout)})
	}
	if err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	if t.Error != "" {
		return errors.New("the resolution failed") // NXDOMAIN is a success; SERVFAIL is not
	}
	return nil
}

// localTrace resolves q in this process with a fresh resolver and cache.
func localTrace(ctx context.Context, stderr io.Writer, cfg *config.Config, seed uint64, q dns.Question) (*trace.Trace, error) {
	log := newLogger(cfg.Log, stderr)
	var lab *zones.Lab
	if cfg.Lab.Enabled {
		var labLog *slog.Logger // the lab's lifecycle lines would only clutter a trace
		if cfg.Log.Level <= slog.LevelDebug {
			labLog = log.With("component", "lab")
		}
		var err error
		if lab, err = zones.StartLab(ctx, zones.LabOptions{Port: 0, Logger: labLog}); err != nil {
			return nil, fmt.Errorf("start lab: %w", err)
		}
		defer func() {
			if err := lab.Close(); err != nil {
				log.Error("stop lab", "err", err)
			}
		}()
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		return nil, err
	}
	opts, err := resolverOptions(cfg, lab, c, log)
	if err != nil {
		return nil, err
	}
	if seed != 0 {
		opts.Rand = rand.NewPCG(seed, seed)
	}
	res, err := resolver.New(opts)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	where := "in this process, with an empty cache, from the IANA root hints"
	switch {
	case lab != nil:
		where = "in this process, with an empty cache, against the lab"
	case cfg.RootHints.Kind == config.HintsFile:
		where = "in this process, with an empty cache, from the hints in " + cfg.RootHints.Path
	case cfg.RootHints.Kind == config.HintsLab:
		where = "in this process, with an empty cache, from the lab's hints"
	}
	return trace.Run(ctx, res, q, where), nil
}

// remoteTrace asks a running server's admin API for the trace.
func remoteTrace(ctx context.Context, addr, token string, q dns.Question, cold bool) (*trace.Trace, error) {
	v := url.Values{"name": {q.Name}, "type": {dns.TypeToString[q.Qtype]}}
	if cold {
		v.Set("cold", "1")
	}
	var t trace.Trace
	if err := getJSON(ctx, addr, "/trace?"+v.Encode(), token, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// getJSON fetches path from the admin API at addr and decodes it into v.
func getJSON(ctx context.Context, addr, path, token string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	u := "http://" + addr + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError{fmt.Errorf("admin address %q: %w", addr, err)}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the admin API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // the message is a courtesy; the status says enough
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// isTerminal reports whether w is a terminal that wants colour: a
// character device, with NO_COLOR unset and TERM not "dumb".
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
