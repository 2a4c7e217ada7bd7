package main

import (
	"log/slog"
	"reflect"

	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/server"
	"github.com/rootwalk/rootwalk/zones"
)

// reloader applies a configuration read again (on SIGHUP) to a running
// server: the ACL and its action, the rate limits, the local zones and the
// log level, without dropping a query. A configuration that does not load
// is reported and the running one kept; other settings that changed are
// reported as waiting for a restart.
type reloader struct {
	load  func() (*config.Config, error)
	level *slog.LevelVar
	log   *slog.Logger

	// Set by serve once it runs.
	current *config.Config
	handler *server.Handler
	res     *resolver.Resolver
	lab     *zones.Lab
}

// policyOf is the handler's policy as cfg says.
func policyOf(cfg *config.Config) server.Policy {
	return server.Policy{
		ACL:       server.ACL{Allow: cfg.ACL.Allow, Deny: cfg.ACL.Deny},
		ACLAction: serverAction(cfg.ACL.Action),
		RateLimit: server.RateLimit{QPS: cfg.RateLimit.QPS, Burst: cfg.RateLimit.Burst, Action: serverAction(cfg.RateLimit.Action)},
	}
}

// reload reads the configuration again and applies what can change while
// serving.
func (r *reloader) reload() {
	cfg, err := r.load()
	if err != nil {
		r.log.Warn("reload rejected; the running configuration stays", "err", err)
		return
	}
	local, err := localZones(cfg, r.lab)
	if err != nil {
		r.log.Warn("reload rejected; the running configuration stays", "err", err)
		return
	}
	if err := r.handler.SetPolicy(policyOf(cfg)); err != nil {
		r.log.Warn("reload rejected; the running configuration stays", "err", err)
		return
	}
	r.res.SetLocal(local)
	r.handler.FlushAnswers() // the local zones' old answers must not be replayed
	r.level.Set(cfg.Log.Level)
	r.log.Info("configuration reloaded", "acl_allow", len(cfg.ACL.Allow), "acl_deny", len(cfg.ACL.Deny),
		"acl_action", cfg.ACL.Action, "ratelimit_qps", cfg.RateLimit.QPS, "ratelimit_burst", cfg.RateLimit.Burst,
		"local_zones", cfg.LocalZones, "log_level", cfg.Log.Level.String())
	if changed := restartOnly(r.current, cfg); len(changed) > 0 {
		r.log.Warn("changed settings wait for a restart", "settings", changed)
	}
	r.current = cfg
}

// restartOnly names the parts of the configuration that differ between
// old and cfg and that a reload does not apply.
func restartOnly(old, cfg *config.Config) []string {
	a, b := *old, *cfg
	// What reload applies.
	a.ACL, b.ACL = config.ACL{}, config.ACL{}
	a.RateLimit, b.RateLimit = config.RateLimit{}, config.RateLimit{}
	a.LocalZones, b.LocalZones = "", ""
	a.Log.Level, b.Log.Level = 0, 0
	var changed []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			changed = append(changed, va.Type().Field(i).Name)
		}
	}
	return changed
}
