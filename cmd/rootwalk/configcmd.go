package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/config"
)

// hidden replaces a secret's value in config print's output.
const hidden = "(set, hidden)"

// secretWords mark a setting whose value is a secret, wherever they appear
// in its key (admin.token, cache.redis.seed, server.cookie_secret, and any
// such setting added later).
var secretWords = []string{"token", "secret", "password", "seed"}

// keyRedisAddr may hold a password inside a redis:// URL.
const keyRedisAddr = "cache.redis.addr"

func newConfigCommand() *cobra.Command {
	return newConfigCommandWith(os.Environ)
}

// newConfigCommandWith builds rootwalk config, reading the environment
// from environ, so that tests control it.
func newConfigCommandWith(environ func() []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check or print the configuration that serve would run with",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("%s: unknown command %q; want check or print", cmd.CommandPath(), args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			_ = cmd.Help() // help on a terminal; nothing to do if it cannot be written
			return usageError{fmt.Errorf("%s: a command is needed: check or print", cmd.CommandPath())}
		},
	}
	cmd.AddCommand(newConfigCheckCommand(environ), newConfigPrintCommand(environ))
	return cmd
}

func newConfigCheckCommand(environ func() []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Load the configuration as serve would and report every problem (exit status 2)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfigSources(cmd, environ())
			if err != nil {
				return err
			}
			file := cfg.File
			if file == "" {
				file = "no config file"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "configuration OK (%s)\n", file)
			return err
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

func newConfigPrintCommand(environ func() []string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "print",
		Short: "Print every setting's effective value and where it came from (default, file, env, flag)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, src, err := loadConfigSources(cmd, environ())
			if err != nil {
				return err
			}
			entries := effectiveSettings(src)
			if asJSON {
				return writeSettingsJSON(cmd.OutOrStdout(), entries)
			}
			return writeSettings(cmd.OutOrStdout(), entries)
		},
	}
	config.RegisterFlags(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the settings as JSON")
	return cmd
}

// loadConfigSources loads the configuration as serve does, with where each
// value came from; every problem is a usage error, printed one per line.
func loadConfigSources(cmd *cobra.Command, environ []string) (*config.Config, config.Sources, error) {
	cfg, src, err := config.LoadWithSources(cmd.Flags(), environ)
	if err != nil {
		return nil, nil, badConfiguration(err)
	}
	return cfg, src, nil
}

// badConfiguration makes a configuration error from config.Load a usage
// error (exit status 2), its problems one per line.
func badConfiguration(err error) error {
	return usageError{fmt.Errorf("bad configuration:\n%w", err)}
}

// settingEntry is one line of config print, and one element of its JSON.
type settingEntry struct {
	Key string `json:"key"`
	// Value is a string, or a []string for a list setting.
	Value any `json:"value"`
	// Source is default, file, env or flag.
	Source config.SourceKind `json:"source"`
	// From is the file's path, the variable or the flag.
	From string `json:"from,omitempty"`
}

// effectiveSettings lists every setting in the table's order, secrets
// hidden.
func effectiveSettings(src config.Sources) []settingEntry {
	keys := config.Keys()
	entries := make([]settingEntry, 0, len(keys))
	for _, k := range keys {
		s, ok := src[k]
		if !ok {
			continue // config.Keys and Sources come from one table
		}
		e := settingEntry{Key: k, Source: s.Kind, From: s.Name}
		switch {
		case isSecret(k) && (s.Value != "" || len(s.List) > 0):
			e.Value = hidden
		case s.IsList:
			e.Value = s.List
		case k == keyRedisAddr:
			e.Value = hideURLPassword(s.Value)
		default:
			e.Value = s.Value
		}
		entries = append(entries, e)
	}
	return entries
}

// isSecret reports whether the setting key holds a secret.
func isSecret(key string) bool {
	for _, w := range secretWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}

// hideURLPassword hides the password of a URL such as
// redis://user:pass@host:6379 (redis://user:(set, hidden)@host:6379). An
// address that has an @ but does not parse is hidden whole, since where the
// password ends cannot be told.
func hideURLPassword(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || !strings.Contains(addr, "://") {
		if strings.Contains(addr, "@") {
			return hidden
		}
		return addr
	}
	if u.User == nil {
		return addr
	}
	if _, ok := u.User.Password(); !ok {
		return addr
	}
	name := url.User(u.User.Username()).String()
	rest := *u
	rest.User = nil
	prefix := u.Scheme + "://"
	return prefix + name + ":" + hidden + "@" + strings.TrimPrefix(rest.String(), prefix)
}

// writeSettings prints one "key = value  # source" line per setting.
func writeSettings(w io.Writer, entries []settingEntry) error {
	var b strings.Builder
	for _, e := range entries {
		src := string(e.Source)
		if e.From != "" {
			src += " " + e.From
		}
		fmt.Fprintf(&b, "%s = %s  # %s\n", e.Key, valueText(e.Value), src)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// valueText writes a value for config print: a list in brackets, an empty
// string as "".
func valueText(v any) string {
	switch x := v.(type) {
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case string:
		if x == "" {
			return `""`
		}
		return x
	}
	return fmt.Sprint(v)
}

// writeSettingsJSON prints the settings as a JSON array, in table order.
func writeSettingsJSON(w io.Writer, entries []settingEntry) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(entries); err != nil {
		return fmt.Errorf("write settings as JSON: %w", err)
	}
	return nil
}
