package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	want := &Config{
		Listen:            netip.MustParseAddrPort("127.0.0.1:53"),
		RootHints:         RootHints{Kind: HintsIANA},
		UpstreamPort:      53,
		IPv6:              true,
		QNameMinimisation: true,
		Lab:               Lab{Enabled: false, Port: 10053},
		Admin:             Admin{Listen: netip.MustParseAddrPort("127.0.0.1:9153")},
		Transports:        Transports{TrustedProxies: []netip.Prefix{}},
		Cache: Cache{
			Size:           100000,
			Memory:         128 << 20,
			File:           "",
			MinTTL:         0,
			MaxTTL:         24 * time.Hour,
			NegativeMaxTTL: time.Hour,
			Policy:         CacheLRU,
			ServeStale:     true,
			StaleMaxAge:    24 * time.Hour,
			Prefetch:       true,
			Redis:          Redis{Timeout: 50 * time.Millisecond},
		},
		ACL: ACL{
			Allow: []netip.Prefix{
				netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
				netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
				netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10"),
			},
			Deny:   []netip.Prefix{},
			Action: ActionRefuse,
		},
		RateLimit: RateLimit{QPS: 0, Burst: 0, Action: ActionRefuse},
		Limits:    Limits{MaxRecursions: 2000, UpstreamQPS: 10000, UpstreamOutstanding: 4096},
		TCP:       TCP{IdleTimeout: 10 * time.Second, MaxConns: 1000, MaxConnsPerClient: 100},
		Server:    Server{Identity: ""},
		Log:       Log{Level: slog.LevelInfo, Format: LogText},
		DNSSEC:    DNSSEC{Enabled: true},
	}
	tests := []struct {
		name string
		l    load
	}{
		{name: "no flags no environment", l: load{}},
		{name: "other variables are ignored", l: load{env: []string{"HOME=/root", "rootwalk_listen=x", "ROOTWALKLISTEN=x", "NOEQUALS"}}},
		{name: "empty file", l: load{yaml: "# nothing here\n"}},
		{name: "null values mean unset", l: load{yaml: "listen:\ncache:\n  size: ~\n"}},
		{name: "flag given its default", l: load{args: []string{"--cache-size", "100000", "--ipv6"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustLoad(t, tc.l)
			got.File = "" // the file's path is checked elsewhere
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadNilFlagSet(t *testing.T) {
	cfg, err := Load(nil, []string{"ROOTWALK_CACHE_SIZE=7"})
	if err != nil {
		t.Fatalf("Load(nil, env) failed: %v", err)
	}
	if got, want := cfg.Cache.Size, 7; got != want {
		t.Errorf("got cache.size %d, want %d", got, want)
	}
}

// TestPrecedence sets a scalar, a duration and a list key in every
// combination of layers: the highest layer that sets a key wins, and a layer
// that does not set it changes nothing.
func TestPrecedence(t *testing.T) {
	const (
		fileYAML  = "cache:\n  size: 2\n  max_ttl: 2h\nacl:\n  deny: [10.1.0.0/16]\n"
		envSize   = "ROOTWALK_CACHE_SIZE=3"
		envMaxTTL = "ROOTWALK_CACHE_MAX_TTL=3h"
		envDeny   = "ROOTWALK_ACL_DENY=10.2.0.0/16, 10.3.0.0/16"
	)
	flagArgs := []string{"--cache-size", "4", "--cache-max-ttl", "4h", "--acl-deny", "10.4.0.0/16", "--acl-deny", "10.5.0.0/16"}
	var (
		defaultDeny []netip.Prefix
		fileDeny    = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
		envDenyList = []netip.Prefix{netip.MustParsePrefix("10.2.0.0/16"), netip.MustParsePrefix("10.3.0.0/16")}
		flagDeny    = []netip.Prefix{netip.MustParsePrefix("10.4.0.0/16"), netip.MustParsePrefix("10.5.0.0/16")}
	)
	tests := []struct {
		name            string
		file, env, flag bool
		wantSize        int
		wantMaxTTL      time.Duration
		wantDeny        []netip.Prefix
	}{
		{name: "default", wantSize: 100000, wantMaxTTL: 24 * time.Hour, wantDeny: defaultDeny},
		{name: "file over default", file: true, wantSize: 2, wantMaxTTL: 2 * time.Hour, wantDeny: fileDeny},
		{name: "env over default", env: true, wantSize: 3, wantMaxTTL: 3 * time.Hour, wantDeny: envDenyList},
		{name: "flag over default", flag: true, wantSize: 4, wantMaxTTL: 4 * time.Hour, wantDeny: flagDeny},
		{name: "env over file", file: true, env: true, wantSize: 3, wantMaxTTL: 3 * time.Hour, wantDeny: envDenyList},
		{name: "flag over file", file: true, flag: true, wantSize: 4, wantMaxTTL: 4 * time.Hour, wantDeny: flagDeny},
		{name: "flag over env", env: true, flag: true, wantSize: 4, wantMaxTTL: 4 * time.Hour, wantDeny: flagDeny},
		{name: "flag over env over file", file: true, env: true, flag: true, wantSize: 4, wantMaxTTL: 4 * time.Hour, wantDeny: flagDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l load
			if tc.file {
				l.yaml = fileYAML
			}
			if tc.env {
				l.env = []string{envSize, envMaxTTL, envDeny}
			}
			if tc.flag {
				l.args = flagArgs
			}
			cfg := mustLoad(t, l)
			if cfg.Cache.Size != tc.wantSize {
				t.Errorf("cache.size: got %d, want %d", cfg.Cache.Size, tc.wantSize)
			}
			if cfg.Cache.MaxTTL != tc.wantMaxTTL {
				t.Errorf("cache.max_ttl: got %v, want %v", cfg.Cache.MaxTTL, tc.wantMaxTTL)
			}
			if len(cfg.ACL.Deny) != len(tc.wantDeny) || !slices.Equal(cfg.ACL.Deny, tc.wantDeny) {
				t.Errorf("acl.deny: got %v, want %v", cfg.ACL.Deny, tc.wantDeny)
			}
		})
	}
}

// TestErrorNamesSource checks that a bad value's error says which layer
// the value came from, for every layer.
func TestErrorNamesSource(t *testing.T) {
	path := writeFile(t, "rootwalk.yaml", "listen: file\n")
	tests := []struct {
		name       string
		args       []string
		env        []string
		wantValue  string
		wantSource string
	}{
		{name: "file", args: []string{"--config", path}, wantValue: "file", wantSource: path},
		{name: "env", args: []string{"--config", path}, env: []string{"ROOTWALK_LISTEN=env"}, wantValue: "env", wantSource: "ROOTWALK_LISTEN"},
		{name: "flag", args: []string{"--config", path, "--listen", "flag"}, env: []string{"ROOTWALK_LISTEN=env"}, wantValue: "flag", wantSource: "--listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, load{args: tc.args, env: tc.env})
			wantFieldError(t, err, keyListen, tc.wantValue, tc.wantSource)
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "default source",
			err:  &FieldError{Key: "listen", Value: "abc", Want: wantListen},
			want: `listen: "abc" is not valid; want IP:PORT such as 127.0.0.1:53`,
		},
		{
			name: "flag source",
			err:  &FieldError{Key: "listen", Value: "abc", Want: wantListen, Source: "--listen"},
			want: `listen: "abc" is not valid; want IP:PORT such as 127.0.0.1:53 (from --listen)`,
		},
		{
			name: "value with a newline stays on one line",
			err:  &FieldError{Key: "log.level", Value: "a\nb", Want: wantLogLevel},
			want: `log.level: "a\nb" is not valid; want debug, info, warn or error`,
		},
		{
			name: "unknown variable",
			err:  &UnknownKeyError{Key: "ROOTWALK_CACHE_SIZ", Want: "ROOTWALK_CACHE_SIZE", Source: envSource},
			want: `ROOTWALK_CACHE_SIZ: unknown setting; want ROOTWALK_CACHE_SIZE (from environment)`,
		},
		{
			name: "odd key is quoted",
			err:  &UnknownKeyError{Key: "a b\n", Want: "listen", Source: "f.yaml"},
			want: `"a b\n": unknown setting; want listen (from f.yaml)`,
		},
		{
			name: "file error drops the repeated path",
			err:  &FileError{Path: "x.yaml", Op: "read", Source: "--config", Err: &fs.PathError{Op: "open", Path: "x.yaml", Err: fs.ErrNotExist}},
			want: `config: cannot read "x.yaml": file does not exist (from --config)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAdminListen(t *testing.T) {
	disabled := netip.AddrPort{}
	tests := []struct {
		name string
		l    load
		want netip.AddrPort
	}{
		{name: "default", l: load{}, want: netip.MustParseAddrPort("127.0.0.1:9153")},
		{name: "--admin-listen", l: load{args: []string{"--admin-listen", "127.0.0.1:9000"}}, want: netip.MustParseAddrPort("127.0.0.1:9000")},
		{name: "--admin alias", l: load{args: []string{"--admin", "[::1]:9001"}}, want: netip.MustParseAddrPort("[::1]:9001")},
		{name: "alias then flag: last wins", l: load{args: []string{"--admin", "127.0.0.1:1", "--admin-listen", "127.0.0.1:2"}}, want: netip.MustParseAddrPort("127.0.0.1:2")},
		{name: "flag then alias: last wins", l: load{args: []string{"--admin-listen", "127.0.0.1:2", "--admin", "127.0.0.1:1"}}, want: netip.MustParseAddrPort("127.0.0.1:1")},
		{name: "alias over env", l: load{args: []string{"--admin", "127.0.0.1:3"}, env: []string{"ROOTWALK_ADMIN_LISTEN=127.0.0.1:4"}}, want: netip.MustParseAddrPort("127.0.0.1:3")},
		{name: "empty env disables", l: load{env: []string{"ROOTWALK_ADMIN_LISTEN="}}, want: disabled},
		{name: "empty env disables over file", l: load{yaml: "admin:\n  listen: 127.0.0.1:5\n", env: []string{"ROOTWALK_ADMIN_LISTEN="}}, want: disabled},
		{name: "empty in file disables", l: load{yaml: "admin:\n  listen: \"\"\n"}, want: disabled},
		{name: "empty flag disables", l: load{args: []string{"--admin-listen="}}, want: disabled},
		{name: "empty alias disables", l: load{args: []string{"--admin", ""}}, want: disabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustLoad(t, tc.l)
			if cfg.Admin.Listen != tc.want {
				t.Errorf("got admin.listen %v, want %v", cfg.Admin.Listen, tc.want)
			}
			if got, want := cfg.Admin.Enabled(), tc.want.IsValid(); got != want {
				t.Errorf("got Enabled() %v, want %v", got, want)
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name       string
		l          load
		wantKey    string
		wantWant   string
		fileSource bool
	}{
		{name: "typo in nested YAML key", l: load{yaml: "cache:\n  siz: 5\n"}, wantKey: "cache.siz", wantWant: "cache.size", fileSource: true},
		{name: "typo in top-level YAML key", l: load{yaml: "lisen: 127.0.0.1:53\n"}, wantKey: "lisen", wantWant: "listen", fileSource: true},
		{name: "unrelated YAML key", l: load{yaml: "colour: blue\n"}, wantKey: "colour", wantWant: "one of " + strings.Join(fileKeys(), ", "), fileSource: true},
		{name: "unknown YAML section", l: load{yaml: "redis:\n  enabled: true\n"}, wantKey: "redis.enabled", wantWant: "one of " + strings.Join(fileKeys(), ", "), fileSource: true},
		{name: "typo in variable", l: load{env: []string{"ROOTWALK_CACHE_SIZ=5"}}, wantKey: "ROOTWALK_CACHE_SIZ", wantWant: "ROOTWALK_CACHE_SIZE"},
		{name: "unrelated variable", l: load{env: []string{"ROOTWALK_COLOUR=blue"}}, wantKey: "ROOTWALK_COLOUR", wantWant: "one of " + strings.Join(envNames(), ", ")},
		{name: "empty unknown variable", l: load{env: []string{"ROOTWALK_FLAG_LAB="}}, wantKey: "ROOTWALK_FLAG_LAB", wantWant: "one of " + strings.Join(envNames(), ", ")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, tc.l)
			var uk *UnknownKeyError
			if !errors.As(err, &uk) {
				t.Fatalf("got %v, want an *UnknownKeyError", err)
			}
			if uk.Key != tc.wantKey || uk.Want != tc.wantWant {
				t.Errorf("got key %q want %q, want key %q want %q", uk.Key, uk.Want, tc.wantKey, tc.wantWant)
			}
			if tc.fileSource != (uk.Source != envSource) {
				t.Errorf("got source %q, want from file %v", uk.Source, tc.fileSource)
			}
			if n := len(errLines(err)); n != 1 {
				t.Errorf("got %d lines, want 1:\n%v", n, err)
			}
		})
	}
}

func TestFileStructure(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantKey   string
		wantValue string
	}{
		{name: "config key in the file", yaml: "config: other.yaml\n", wantKey: "config", wantValue: "other.yaml"},
		{name: "section given a scalar", yaml: "cache: 5\n", wantKey: "cache", wantValue: "5"},
		{name: "section given a list", yaml: "lab: [1, 2]\n", wantKey: "lab", wantValue: "1,2"},
		{name: "scalar given a mapping", yaml: "listen:\n  addr: 127.0.0.1\n", wantKey: "listen", wantValue: "map[addr:127.0.0.1]"},
		{name: "scalar given a list", yaml: "upstream_port: [53]\n", wantKey: "upstream_port", wantValue: "53"},
		{name: "cache.file given a list", yaml: "cache:\n  file: [a, b]\n", wantKey: "cache.file", wantValue: "a,b"},
		{name: "cache.max_ttl given a mapping", yaml: "cache:\n  max_ttl:\n    h: 1\n", wantKey: "cache.max_ttl", wantValue: "map[h:1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "rootwalk.yaml", tc.yaml)
			err := loadErr(t, load{args: []string{"--config", path}})
			wantFieldError(t, err, tc.wantKey, tc.wantValue, path)
		})
	}
}

func TestConfigFile(t *testing.T) {
	good := writeFile(t, "good.yaml", "cache:\n  size: 42\n")
	bad := writeFile(t, "bad.yaml", "cache:\n  size: 42\n listen: x\n")
	notMap := writeFile(t, "list.yaml", "- listen\n- 127.0.0.1:53\n")
	missing := good + ".missing"
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantFile string
		wantSize int
		wantErr  []string // substrings of the error, if one is expected
		wantIs   error
	}{
		{name: "--config", args: []string{"--config", good}, wantFile: good, wantSize: 42},
		{name: "ROOTWALK_CONFIG", env: []string{"ROOTWALK_CONFIG=" + good}, wantFile: good, wantSize: 42},
		{name: "--config over ROOTWALK_CONFIG", args: []string{"--config", good}, env: []string{"ROOTWALK_CONFIG=" + missing}, wantFile: good, wantSize: 42},
		{name: "empty --config reads nothing", args: []string{"--config="}, wantSize: 100000},
		{
			name: "--config that does not exist", args: []string{"--config", missing},
			wantErr: []string{`config: cannot read "` + missing + `"`, "(from --config)"}, wantIs: fs.ErrNotExist,
		},
		{
			name: "ROOTWALK_CONFIG that does not exist", env: []string{"ROOTWALK_CONFIG=" + missing},
			wantErr: []string{`config: cannot read "` + missing + `"`, "(from ROOTWALK_CONFIG)"}, wantIs: fs.ErrNotExist,
		},
		{
			name: "--config that is a directory", args: []string{"--config", t.TempDir()},
			wantErr: []string{"config: cannot read", "is a directory"},
		},
		{
			name: "bad YAML keeps the line", args: []string{"--config", bad},
			wantErr: []string{`config: cannot parse "` + bad + `"`, "yaml: line 2: "},
		},
		{
			name: "YAML that is not a mapping", args: []string{"--config", notMap},
			wantErr: []string{`config: cannot parse "` + notMap + `"`, "line 1"},
		},
		{
			name: "unreadable file and a bad flag are both reported", args: []string{"--config", missing, "--cache-size", "0"},
			wantErr: []string{"config: cannot read", `cache.size: "0" is not valid`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := load{args: tc.args, env: tc.env}
			if tc.wantErr != nil {
				err := loadErr(t, l)
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("got error:\n%v\nwant it to contain %q", err, want)
					}
				}
				if n := len(errLines(err)); n != len(joined(err)) {
					t.Errorf("got %d lines for %d problems:\n%v", n, len(joined(err)), err)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("got %v, want errors.Is %v", err, tc.wantIs)
				}
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Errorf("got %v, want a *FileError", err)
				}
				return
			}
			cfg := mustLoad(t, l)
			if cfg.File != tc.wantFile || cfg.Cache.Size != tc.wantSize {
				t.Errorf("got file %q cache.size %d, want file %q cache.size %d", cfg.File, cfg.Cache.Size, tc.wantFile, tc.wantSize)
			}
		})
	}
}

// TestWorkingDirectoryFile checks that ./rootwalk.yaml is read when no file
// is named, and only then.
func TestWorkingDirectoryFile(t *testing.T) {
	other := writeFile(t, "other.yaml", "cache:\n  size: 7\n")
	tests := []struct {
		name     string
		content  string // of ./rootwalk.yaml; empty means no such file
		args     []string
		env      []string
		wantFile string
		wantSize int
	}{
		{name: "present", content: "cache:\n  size: 5\n", wantFile: defaultConfigFile, wantSize: 5},
		{name: "absent", wantSize: 100000},
		{name: "--config wins", content: "cache:\n  size: 5\n", args: []string{"--config", other}, wantFile: other, wantSize: 7},
		{name: "empty ROOTWALK_CONFIG reads nothing", content: "cache:\n  size: 5\n", env: []string{"ROOTWALK_CONFIG="}, wantSize: 100000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if tc.content != "" {
				if err := os.WriteFile(defaultConfigFile, []byte(tc.content), 0o600); err != nil {
					t.Fatalf("write %s: %v", defaultConfigFile, err)
				}
			}
			cfg := mustLoad(t, load{args: tc.args, env: tc.env})
			if cfg.File != tc.wantFile || cfg.Cache.Size != tc.wantSize {
				t.Errorf("got file %q cache.size %d, want file %q cache.size %d", cfg.File, cfg.Cache.Size, tc.wantFile, tc.wantSize)
			}
		})
	}
}

func TestWorkingDirectoryFileBad(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(defaultConfigFile, []byte("listen: [\n"), 0o600); err != nil {
		t.Fatalf("write %s: %v", defaultConfigFile, err)
	}
	err := loadErr(t, load{})
	want := `config: cannot parse "rootwalk.yaml"`
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "(from working directory)") {
		t.Errorf("got %v, want it to contain %q and the source", err, want)
	}
}

// TestSeveralErrors checks that every problem is reported, one per line,
// in table order, with the unknown variables first.
func TestSeveralErrors(t *testing.T) {
	l := load{
		args: []string{"--listen", "abc", "--cache-size", "0", "--log-level", "loud", "--acl-deny", "10.0.0.0/33,banana"},
		env:  []string{"ROOTWALK_FOO=1", "ROOTWALK_CACHE_MEMORY=12 parsecs"},
		yaml: "lisen: x\n",
	}
	err := loadErr(t, l)
	got := errLines(err)
	wantPrefixes := []string{
		`ROOTWALK_FOO: unknown setting`,
		`lisen: unknown setting; want listen (from `,
		`listen: "abc" is not valid; want IP:PORT such as 127.0.0.1:53 (from --listen)`,
		`cache.size: "0" is not valid; want an integer of at least 1 (from --cache-size)`,
		`cache.memory: "12 parsecs" is not valid; want a size of at least 1MiB`,
		`acl.deny: "10.0.0.0/33" is not valid`,
		`acl.deny: "banana" is not valid`,
		`log.level: "loud" is not valid; want debug, info, warn or error (from --log-level)`,
	}
	if len(got) != len(wantPrefixes) {
		t.Fatalf("got %d lines, want %d:\n%v", len(got), len(wantPrefixes), err)
	}
	for i, line := range got {
		if !strings.HasPrefix(line, wantPrefixes[i]) {
			t.Errorf("line %d: got  %s\nwant prefix %s", i+1, line, wantPrefixes[i])
		}
	}
}

// TestLoadConcurrent checks, under -race, that Loads running at once share
// no state.
func TestLoadConcurrent(t *testing.T) {
	const loaders = 8
	var wg sync.WaitGroup
	sizes := make([]int, loaders)
	errs := make([]error, loaders)
	for i := range loaders {
		wg.Go(func() {
			cfg, err := Load(nil, []string{"ROOTWALK_CACHE_SIZE=" + strconv.Itoa(i+1), "ROOTWALK_ACL_DENY=10.0.0.0/8"})
			if err != nil {
				errs[i] = err
				return
			}
			sizes[i] = cfg.Cache.Size
		})
	}
	wg.Wait()
	for i := range loaders {
		if errs[i] != nil || sizes[i] != i+1 {
			t.Errorf("loader %d: got cache.size %d, error %v; want %d, no error", i, sizes[i], errs[i], i+1)
		}
	}
}
