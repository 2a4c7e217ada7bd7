package config

import (
	"reflect"
	"slices"
	"testing"
)

// loadSources calls LoadWithSources with l's inputs and fails the test on
// an error. It returns the config file's path too ("" without one).
func loadSources(t *testing.T, l load) (*Config, Sources, string) {
	t.Helper()
	args, path := l.args, ""
	if l.yaml != "" {
		path = writeFile(t, "rootwalk.yaml", l.yaml)
		args = append([]string{"--config", path}, args...)
	}
	cfg, src, err := LoadWithSources(parsedFlags(t, args...), l.env)
	if err != nil {
		t.Fatalf("LoadWithSources(%+v) failed:\n%v", l, err)
	}
	return cfg, src, path
}

func TestSourcesEachLayer(t *testing.T) {
	cfg, src, path := loadSources(t, load{
		yaml: "cache:\n  size: 5000\n  memory: 64MiB\nacl:\n  deny: [10.9.0.0/16]\nlog:\n  level: warn\n",
		env:  []string{"ROOTWALK_CACHE_MEMORY=32MiB", "ROOTWALK_LOG_LEVEL=error", "ROOTWALK_ACL_ALLOW=127.0.0.1, ::1"},
		args: []string{"--log-level", "debug", "--admin", "127.0.0.1:9999"},
	})
	tests := []struct {
		key  string
		want Source
	}{
		{key: "listen", want: Source{Kind: SourceDefault, Value: "127.0.0.1:53"}},
		{key: "upstream.max_qps_per_server", want: Source{Kind: SourceDefault, Value: "10000"}},
		{key: "ipv6", want: Source{Kind: SourceDefault, Value: "true"}},
		{key: "admin.token", want: Source{Kind: SourceDefault, Value: ""}},
		{key: "dnssec.negative_trust_anchors", want: Source{Kind: SourceDefault, IsList: true, List: []string{}}},
		{key: "cache.size", want: Source{Kind: SourceFile, Name: path, Value: "5000"}},
		{key: "acl.deny", want: Source{Kind: SourceFile, Name: path, IsList: true, List: []string{"10.9.0.0/16"}}},
		// The environment hides the file, and the value is as written,
		// not as validated (32MiB, not 33554432).
		{key: "cache.memory", want: Source{Kind: SourceEnv, Name: "ROOTWALK_CACHE_MEMORY", Value: "32MiB"}},
		{key: "acl.allow", want: Source{Kind: SourceEnv, Name: "ROOTWALK_ACL_ALLOW", IsList: true, List: []string{"127.0.0.1", "::1"}}},
		// A flag hides both; an alias is named as the user spelt it.
		{key: "log.level", want: Source{Kind: SourceFlag, Name: "--log-level", Value: "debug"}},
		{key: "admin.listen", want: Source{Kind: SourceFlag, Name: "--admin", Value: "127.0.0.1:9999"}},
		{key: "config", want: Source{Kind: SourceFlag, Name: "--config", Value: path}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := src[tc.key]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
	if cfg.Cache.Memory != 32<<20 || cfg.Cache.Size != 5000 {
		t.Errorf("Config disagrees with the sources: cache.memory %d, cache.size %d", cfg.Cache.Memory, cfg.Cache.Size)
	}
}

func TestSourcesEveryKey(t *testing.T) {
	_, src, _ := loadSources(t, load{})
	keys := Keys()
	if len(src) != len(keys) {
		t.Errorf("%d sources for %d keys", len(src), len(keys))
	}
	for _, k := range keys {
		s, ok := src[k]
		if !ok {
			t.Errorf("no source for %s", k)
			continue
		}
		if s.Kind != SourceDefault || s.Name != "" {
			t.Errorf("%s: got source %q with nothing set, want default", k, s)
		}
		if s.IsList != settingIndex[k].isList() || (s.IsList && s.List == nil) {
			t.Errorf("%s: IsList %v, List %#v: wrong for a list %v setting", k, s.IsList, s.List, settingIndex[k].isList())
		}
	}
	if !slices.Equal(src["acl.allow"].List, settingIndex[keyACLAllow].def.([]string)) {
		t.Errorf("acl.allow: got %q, want the default %q", src["acl.allow"].List, settingIndex[keyACLAllow].def)
	}
}

func TestSourcesConfigFromEnvironment(t *testing.T) {
	path := writeFile(t, "r.yaml", "listen: 127.0.0.1:5300\n")
	_, src, err := LoadWithSources(parsedFlags(t), []string{"ROOTWALK_CONFIG=" + path})
	if err != nil {
		t.Fatal(err)
	}
	want := Source{Kind: SourceEnv, Name: "ROOTWALK_CONFIG", Value: path}
	if got := src["config"]; !reflect.DeepEqual(got, want) {
		t.Errorf("config: got %#v, want %#v", got, want)
	}
	if got := src["listen"]; got.Kind != SourceFile || got.Name != path {
		t.Errorf("listen: got source %q, want file %s", got, path)
	}
}

func TestSourcesNoFile(t *testing.T) {
	_, src, err := LoadWithSources(parsedFlags(t, "--config", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Source{Kind: SourceFlag, Name: "--config"}
	if got := src["config"]; !reflect.DeepEqual(got, want) {
		t.Errorf("config: got %#v, want %#v (no file read, on purpose)", got, want)
	}
}

func TestSourcesOnError(t *testing.T) {
	cfg, src, err := LoadWithSources(parsedFlags(t, "--cache-size", "-1"), nil)
	if err == nil || cfg != nil || src != nil {
		t.Fatalf("got %v, %v, %v; want only an error", cfg, src, err)
	}
	wantFieldError(t, err, keyCacheSize, "-1", "--cache-size")
}

func TestSourceString(t *testing.T) {
	tests := []struct {
		s    Source
		want string
	}{
		{Source{Kind: SourceDefault}, "default"},
		{Source{Kind: SourceFile, Name: "/etc/rootwalk/rootwalk.yaml"}, "file /etc/rootwalk/rootwalk.yaml"},
		{Source{Kind: SourceEnv, Name: "ROOTWALK_LISTEN"}, "env ROOTWALK_LISTEN"},
		{Source{Kind: SourceFlag, Name: "--listen"}, "flag --listen"},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestKeysInTableOrder(t *testing.T) {
	keys := Keys()
	if len(keys) != len(settings) || keys[0] != keyConfig {
		t.Fatalf("Keys() = %q, want the %d settings starting with config", keys, len(settings))
	}
	for i, k := range keys {
		if k != settings[i].key {
			t.Errorf("Keys()[%d] = %s, want %s", i, k, settings[i].key)
		}
	}
	keys[0] = "changed"
	if Keys()[0] != keyConfig {
		t.Error("Keys returned the table's own slice")
	}
}
