package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/server"
)

// listenOptions turns the tcp.* settings into the stream listeners'
// options, the same for TCP and DNS over TLS.
func listenOptions(cfg *config.Config, log *slog.Logger) server.ListenOptions {
	return server.ListenOptions{
		TCPIdleTimeout:       cfg.TCP.IdleTimeout,
		MaxTCPConns:          noLimitIfZero(cfg.TCP.MaxConns),
		MaxTCPConnsPerClient: noLimitIfZero(cfg.TCP.MaxConnsPerClient),
		Logger:               log,
	}
}

// encrypted are the listeners of the encrypted transports that run.
type encrypted struct {
	stops []func(context.Context) error
}

// startTransports starts the DNS-over-TLS, -HTTPS and -QUIC listeners the
// configuration asks for, all answering with handler, and the plain HTTP
// one for a reverse proxy. On an error, those already started are
// stopped.
func startTransports(cfg *config.Config, handler *server.Handler, log *slog.Logger) (*encrypted, error) {
	t := cfg.Transports
	e := &encrypted{}
	fail := func(err error) (*encrypted, error) {
		_ = e.Shutdown(context.Background()) // the start's error is the one to report
		return nil, err
	}
	opts := listenOptions(cfg, log)
	if t.NeedTLS() {
		tlsCfg, err := server.TLSConfig(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("tls.cert_file, tls.key_file: %w", err)}
		}
		if t.DoT.IsValid() {
			l, err := server.ListenTLS(t.DoT, handler, tlsCfg, opts)
			if err != nil {
				return fail(err)
			}
			e.stops = append(e.stops, l.Shutdown)
			log.Info("listening", "addr", l.Addr().String(), "transport", "dns-over-tls")
		}
		if t.DoH.IsValid() {
			l, err := server.ListenHTTP(t.DoH, handler, server.DoHOptions{TLS: tlsCfg, TrustedProxies: t.TrustedProxies,
				IdleTimeout: cfg.TCP.IdleTimeout, Logger: log})
			if err != nil {
				return fail(err)
			}
			e.stops = append(e.stops, l.Shutdown)
			log.Info("listening", "addr", l.Addr().String(), "transport", "dns-over-https", "path", "/dns-query")
		}
		if t.DoQ.IsValid() {
			l, err := server.ListenQUIC(t.DoQ, handler, tlsCfg, opts)
			if err != nil {
				return fail(err)
			}
			e.stops = append(e.stops, l.Shutdown)
			log.Info("listening", "addr", l.Addr().String(), "transport", "dns-over-quic")
		}
	}
	if t.DoHHTTP.IsValid() {
		l, err := server.ListenHTTP(t.DoHHTTP, handler, server.DoHOptions{TrustedProxies: t.TrustedProxies,
			IdleTimeout: cfg.TCP.IdleTimeout, Logger: log})
		if err != nil {
			return fail(err)
		}
		e.stops = append(e.stops, l.Shutdown)
		log.Info("listening", "addr", l.Addr().String(), "transport", "dns-over-http (for a reverse proxy)", "path", "/dns-query")
	}
	return e, nil
}

// Shutdown stops every listener, answering the queries in flight.
func (e *encrypted) Shutdown(ctx context.Context) error {
	var errs []error
	for _, stop := range e.stops {
		errs = append(errs, stop(ctx))
	}
	return errors.Join(errs...)
}
