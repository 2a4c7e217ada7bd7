package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/internal/dnscookie"
	"github.com/rootwalk/rootwalk/internal/heapfloor"
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
			log, level := newLevelLogger(cfg.Log, cmd.ErrOrStderr())
			r := &reloader{load: func() (*config.Config, error) { return loadConfig(cmd) }, level: level, log: log}
			return serve(cmd.Context(), cfg, log, r)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

// serve runs the resolver until ctx ends, then shuts everything down. A
// SIGHUP reloads what r can change while serving.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, r *reloader) error {
	var lab *zones.Lab
	if cfg.Lab.Enabled {
		var err error
		lab, err = zones.StartLab(ctx, zones.LabOptions{Port: int(cfg.Lab.Port), Loss: cfg.Lab.Loss, Logger: log.With("component", "lab")})
		if err != nil {
			return fmt.Errorf("start lab: %w", err)
		}
		defer func() {
			if err := lab.Close(); err != nil {
				log.Error("stop lab", "err", err)
			}
		}()
	}
	c, err := cache.New(cacheOptions(cfg))
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if cfg.Cache.File != "" {
		loadCacheFile(c, cfg.Cache.File, log)
	}
	// The heap may grow to the cache's budget before the garbage
	// collector runs, rather than collecting each time a small heap
	// doubles (unless GOGC is set).
	heapfloor.Set(uint64(cfg.Cache.Memory))
	opts, err := resolverOptions(cfg, lab, c, log)
	if err != nil {
		return err
	}
	var handlerRef atomic.Pointer[server.Handler]
	shared, err := sharedCache(ctx, cfg, c, &handlerRef, log)
	if err != nil {
		return err
	}
	var adminShared server.SharedCache
	if shared != nil {
		defer func() {
			if err := shared.Close(); err != nil {
				log.Warn("close shared cache", "err", err)
			}
		}()
		opts.Shared, adminShared = shared, shared
	}
	res, err := resolver.New(opts)
	if err != nil {
		return fmt.Errorf("resolver: %w", err)
	}
	defer res.Close()
	metrics := server.NewMetrics()
	queryLog := server.NewQueryLog(log.With("component", "querylog"), cfg.Log.Queries)
	cookies, err := dnscookie.NewServer(cfg.Server.CookieSecret, nil)
	if err != nil {
		return fmt.Errorf("cookies: %w", err)
	}
	policy := policyOf(cfg)
	replayEntries, replayBytes := replayBounds(cfg)
	handler, err := server.NewHandler(server.HandlerOptions{
		ReplayEntries: replayEntries,
		ReplayBytes:   replayBytes,
		Resolver:      res,
		ACL:           policy.ACL,
		ACLAction:     policy.ACLAction,
		RateLimit:     policy.RateLimit,
		MaxRecursions: cfg.Limits.MaxRecursions,
		Cache:         c,
		Identity:      cfg.Server.Identity,
		Version:       "rootwalk " + versionString(),
		Cookies:       cookies,
		Metrics:       metrics,
		QueryLog:      queryLog,
		Logger:        log.With("component", "server"),
	})
	if err != nil {
		return fmt.Errorf("handler: %w", err)
	}
	handlerRef.Store(handler)
	listener, err := server.ListenWith(cfg.Listen, handler, listenOptions(cfg, log))
	if err != nil {
		return err
	}
	log.Info("listening", "addr", listener.Addr().String(), "udp", true, "tcp", true)
	transports, err := startTransports(cfg, handler, log)
	if err != nil {
		_ = listener.Shutdown(context.Background()) // the transports' error is the one to report
		return err
	}

	var admin *server.Admin
	if cfg.Admin.Enabled() {
		admin = server.NewAdmin(server.AdminOptions{
			Addr: cfg.Admin.Listen, Token: cfg.Admin.Token, AllowedHosts: cfg.Admin.AllowedHosts, Metrics: metrics, QueryLog: queryLog,
			Cache: c, OnFlush: handler.FlushAnswers, Shared: adminShared, Resolver: res, Ready: res.Primed, Listener: listener,
			Logger: log.With("component", "admin"),
		})
		if err := admin.Start(); err != nil {
			_ = listener.Shutdown(context.Background()) // the admin error is the one to report
			_ = transports.Shutdown(context.Background())
			return err
		}
		log.Info("admin API listening", "addr", admin.Addr().String())
	}

	var wg sync.WaitGroup
	wg.Go(func() { primeUntilDone(ctx, res, log) })

	r.current, r.handler, r.res, r.lab = cfg, handler, res, lab
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// Ready for systemd (Type=notify) once every listener is up and a
	// reload (SIGHUP) would be handled, not kill the process.
	notifyReady(log)
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-hup:
			r.reload()
		}
	}
	log.Info("shutting down")
	notifyStopping(log)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	errs = append(errs, listener.Shutdown(sctx))
	errs = append(errs, transports.Shutdown(sctx))
	if admin != nil {
		errs = append(errs, admin.Shutdown(sctx))
	}
	wg.Wait()
	if cfg.Cache.File != "" {
		res.Close() // no walk stores anything while the cache is written
		errs = append(errs, saveCacheFile(c, cfg.Cache.File, log))
	}
	return errors.Join(errs...)
}

// serverAction is the handler's spelling of acl.action or
// ratelimit.action.
func serverAction(a config.Action) server.Action {
	if a == config.ActionDrop {
		return server.ActionDrop
	}
	return server.ActionRefuse
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
