package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/server"
	"github.com/rootwalk/rootwalk/zones"
)

// shutdownTimeout bounds a clean shutdown.
const shutdownTimeout = 10 * time.Second

// Priming is retried with exponential backoff between these bounds until
// it succeeds or the server stops.
const (
	primeRetryMin = 500 * time.Millisecond
	primeRetryMax = 30 * time.Second
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the resolver on UDP and TCP",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			log := newLogger(cfg.Log, cmd.ErrOrStderr())
			return serve(cmd.Context(), cfg, log)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

// serve runs the resolver until ctx ends, then shuts everything down.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	var lab *zones.Lab
	if cfg.Lab.Enabled {
		var err error
		lab, err = zones.StartLab(ctx, zones.LabOptions{Port: int(cfg.Lab.Port), Logger: log.With("component", "lab")})
		if err != nil {
			return fmt.Errorf("start lab: %w", err)
		}
		defer func() {
			if err := lab.Close(); err != nil {
				log.Error("stop lab", "err", err)
			}
		}()
	}
	hints, policy, err := rootHints(cfg, lab)
	if err != nil {
		return err
	}

	local, err := localZones(cfg, lab)
	if err != nil {
		return err
	}
	c, err := cache.New(cache.Options{MaxEntries: cfg.Cache.Size, MaxBytes: cfg.Cache.Memory})
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	res, err := resolver.New(resolver.Options{
		Local:             local,
		Forward:           zoneServers(cfg.ForwardZones),
		Stub:              zoneServers(cfg.StubZones),
		Hints:             hints,
		UpstreamPort:      cfg.UpstreamPort,
		IPv6:              cfg.IPv6,
		QNameMinimisation: cfg.QNameMinimisation,
		AllowUpstream:     policy.allow,
		DenyUpstream:      policy.deny,
		Cache:             c,
		Logger:            log.With("component", "resolver"),
	})
	if err != nil {
		return fmt.Errorf("resolver: %w", err)
	}
	defer res.Close()
	metrics := server.NewMetrics()
	queryLog := server.NewQueryLog(log.With("component", "querylog"), cfg.Log.Queries)
	handler, err := server.NewHandler(server.HandlerOptions{
		Resolver: res,
		ACL:      server.ACL{Allow: cfg.ACL.Allow, Deny: cfg.ACL.Deny},
		Metrics:  metrics,
		QueryLog: queryLog,
		Logger:   log.With("component", "server"),
	})
	if err != nil {
		return fmt.Errorf("handler: %w", err)
	}
	listener, err := server.Listen(cfg.Listen, handler, log)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", listener.Addr().String(), "udp", true, "tcp", true)

	var admin *server.Admin
	if cfg.Admin.Enabled() {
		admin = server.NewAdmin(server.AdminOptions{
			Addr: cfg.Admin.Listen, Token: cfg.Admin.Token, Metrics: metrics, QueryLog: queryLog,
			Cache: c, Resolver: res, Ready: res.Primed, Logger: log.With("component", "admin"),
		})
		if err := admin.Start(); err != nil {
			_ = listener.Shutdown(context.Background()) // the admin error is the one to report
			return err
		}
		log.Info("admin API listening", "addr", admin.Addr().String())
	}

	var wg sync.WaitGroup
	wg.Go(func() { primeUntilDone(ctx, res, log) })

	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	errs = append(errs, listener.Shutdown(sctx))
	if admin != nil {
		errs = append(errs, admin.Shutdown(sctx))
	}
	wg.Wait()
	return errors.Join(errs...)
}

// upstreamPolicy is where the resolver may send queries.
type upstreamPolicy struct{ allow, deny []netip.Prefix }

// rootHints returns the hints root_hints asks for and where the resolver
// may then send queries: with a lab, loopback only (a lab's glue must never
// lead elsewhere); with IANA's roots, public addresses only; with a hints
// file, public addresses and loopback (a lab elsewhere on the machine).
// upstream.allow_private lifts the last two restrictions.
func rootHints(cfg *config.Config, lab *zones.Lab) (resolver.Hints, upstreamPolicy, error) {
	nonPublic := resolver.NonPublic
	if cfg.AllowPrivateUpstream {
		nonPublic = nil
	}
	switch {
	case lab != nil:
		h, err := resolver.ParseHints(strings.NewReader(lab.Hints()), "lab")
		return h, upstreamPolicy{allow: resolver.Loopback}, err
	case cfg.RootHints.Kind == config.HintsLab:
		text, err := zones.LabHints(int(cfg.UpstreamPort))
		if err != nil {
			return nil, upstreamPolicy{}, err
		}
		h, err := resolver.ParseHints(strings.NewReader(text), "lab")
		return h, upstreamPolicy{allow: resolver.Loopback}, err
	case cfg.RootHints.Kind == config.HintsFile:
		f, err := os.Open(cfg.RootHints.Path)
		if err != nil {
			return nil, upstreamPolicy{}, usageError{fmt.Errorf("root_hints: %w", err)}
		}
		h, err := resolver.ParseHints(f, cfg.RootHints.Path)
		_ = f.Close() // read-only; everything needed was read
		if err != nil {
			return nil, upstreamPolicy{}, usageError{fmt.Errorf("root_hints: %q is not a usable named.root file: %w", cfg.RootHints.Path, err)}
		}
		var deny []netip.Prefix
		for _, p := range nonPublic {
			if !slices.Contains(resolver.Loopback, p) {
				deny = append(deny, p)
			}
		}
		return h, upstreamPolicy{deny: deny}, nil
	default:
		h, err := resolver.IANAHints()
		return h, upstreamPolicy{deny: nonPublic}, err
	}
}

// localZones loads the zones answered locally: the operator's folder
// (local_zones), then the special-use zones, which a zone of the folder
// with the same name replaces. With a root other than IANA's (a lab),
// 127.in-addr.arpa is not answered locally: the lab serves a zone in it.
func localZones(cfg *config.Config, lab *zones.Lab) (*zones.Local, error) {
	var own []*zones.Zone
	if cfg.LocalZones != "" {
		var err error
		if own, err = zones.LoadDir(cfg.LocalZones); err != nil {
			return nil, usageError{fmt.Errorf("local_zones: %w", err)}
		}
	}
	builtin, err := zones.Builtin(zones.BuiltinOptions{KeepLoopbackReverse: lab != nil || cfg.RootHints.Kind != config.HintsIANA})
	if err != nil {
		return nil, err
	}
	return zones.NewLocal(own, builtin), nil
}

// zoneServers copies forward or stub zones into the resolver's form.
func zoneServers(zs []config.ZoneServers) []resolver.ZoneServers {
	out := make([]resolver.ZoneServers, len(zs))
	for i, z := range zs {
		out[i] = resolver.ZoneServers{Zone: z.Zone, Servers: z.Servers}
	}
	return out
}

// primeUntilDone primes the root, retrying with backoff until it works or
// ctx ends. Until then the resolver starts its walks from the hints.
func primeUntilDone(ctx context.Context, res *resolver.Resolver, log *slog.Logger) {
	wait := primeRetryMin
	for {
		err := res.Prime(ctx)
		if err == nil {
			log.Info("roots primed")
			return
		}
		log.Warn("priming the roots failed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, primeRetryMax)
	}
}
