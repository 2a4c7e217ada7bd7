package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// parsedFlags returns a flag set with every setting registered and args
// parsed, as cmd would build it.
func parsedFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("rootwalk", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags %q: %v", args, err)
	}
	return fs
}

// writeFile writes content to a file called name in a new temporary
// directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// load is one Load input: command-line arguments, environment entries and,
// if not empty, a config file written for the test and named by --config.
type load struct {
	args []string
	env  []string
	yaml string
}

// run calls Load with l's inputs.
func (l load) run(t *testing.T) (*Config, error) {
	t.Helper()
	args := l.args
	if l.yaml != "" {
		args = append([]string{"--config", writeFile(t, "rootwalk.yaml", l.yaml)}, args...)
	}
	return Load(parsedFlags(t, args...), l.env)
}

// mustLoad calls Load with l's inputs and fails the test on an error.
func mustLoad(t *testing.T, l load) *Config {
	t.Helper()
	cfg, err := l.run(t)
	if err != nil {
		t.Fatalf("Load(%+v) failed:\n%v", l, err)
	}
	if cfg == nil {
		t.Fatalf("Load(%+v) returned a nil Config and no error", l)
	}
	return cfg
}

// loadErr calls Load with l's inputs and returns its error, failing the
// test if there is none.
func loadErr(t *testing.T, l load) error {
	t.Helper()
	cfg, err := l.run(t)
	if err == nil {
		t.Fatalf("Load(%+v) = %+v, want an error", l, cfg)
	}
	if cfg != nil {
		t.Errorf("Load(%+v) returned a Config along with the error %v", l, err)
	}
	return err
}

// errLines splits an error from Load into its lines, one per problem.
func errLines(err error) []string {
	return strings.Split(err.Error(), "\n")
}

// fieldErrors returns the *FieldError values joined in err.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	for _, e := range joined(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	return out
}

// joined returns the errors that errors.Join combined into err, or err
// itself.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// wantFieldError checks that err holds exactly one *FieldError for key, and
// that it carries value and source.
func wantFieldError(t *testing.T, err error, key, value, source string) {
	t.Helper()
	var found []*FieldError
	for _, fe := range fieldErrors(err) {
		if fe.Key == key {
			found = append(found, fe)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d errors for %s, want 1; error:\n%v", len(found), key, err)
	}
	if found[0].Value != value || found[0].Source != source {
		t.Errorf("got error for %s with value %q from %q, want value %q from %q; error: %v",
			key, found[0].Value, found[0].Source, value, source, found[0])
	}
}
