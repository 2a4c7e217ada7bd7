package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// workingDirSource is the Source of the default config file.
const workingDirSource = "working directory"

// fileChoice is the config file to read and who named it.
type fileChoice struct {
	// path is the file; empty means read no file at all.
	path string
	// source is "--config", "ROOTWALK_CONFIG" or workingDirSource.
	source string
	// kind is the layer that named the file: SourceFlag, SourceEnv, or
	// SourceDefault for ./rootwalk.yaml.
	kind SourceKind
	// explicit is true when the user named the file, so that a missing
	// file is an error rather than the absence of one.
	explicit bool
}

// chooseFile picks the config file: --config, else ROOTWALK_CONFIG, else
// ./rootwalk.yaml if it exists. An empty --config or ROOTWALK_CONFIG means no
// file, not even ./rootwalk.yaml.
func chooseFile(flags *pflag.FlagSet, env envLayer) fileChoice {
	if f := settingIndex[keyConfig].changedFlag(flags); f != nil {
		return fileChoice{path: f.Value.String(), source: "--" + f.Name, kind: SourceFlag, explicit: true}
	}
	if v, ok := env.values[keyConfig].(string); ok {
		return fileChoice{path: v, source: env.names[keyConfig], kind: SourceEnv, explicit: true}
	}
	return fileChoice{path: defaultConfigFile, source: workingDirSource, kind: SourceDefault}
}

// readFile loads the chosen file into v's config layer and reports whether
// a file was read. It must run before anything else is put into v, so that
// checkFileKeys sees the file's keys alone.
func readFile(v *viper.Viper, c fileChoice) (bool, error) {
	if c.path == "" {
		return false, nil
	}
	data, err := os.ReadFile(c.path)
	if err != nil {
		if !c.explicit && errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, &FileError{Path: c.path, Op: "read", Source: c.source, Err: err}
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// viper's ConfigParseError adds "While parsing config:"; the
		// YAML error under it already says the line.
		var pe viper.ConfigParseError
		if errors.As(err, &pe) {
			err = pe.Unwrap()
		}
		return false, &FileError{Path: c.path, Op: "parse", Source: c.source, Err: err}
	}
	return true, nil
}

// checkFileKeys reports every key of the file that is not a setting, every
// section that is not a mapping and any setting the file may not hold
// (config), and records in src which settings the file set. v must hold the
// file alone. A key with no value (YAML null) counts as not set.
func checkFileKeys(v *viper.Viper, path string, src Sources) []error {
	keys := v.AllKeys()
	slices.Sort(keys)
	var errs []error
	reported := map[string]bool{}
	for _, k := range keys {
		value := v.Get(k)
		if value == nil {
			continue
		}
		if s := settingFor(k); s != nil {
			switch {
			case s.notInFile && !reported[s.key]:
				reported[s.key] = true
				errs = append(errs, &FieldError{
					Key:    s.key,
					Value:  text(value),
					Want:   "--" + s.flagName() + " or " + s.envName() + ", not a key in the config file",
					Source: path,
				})
			case !s.notInFile:
				// A leaf key whose value is a mapping shows up
				// as deeper keys; the validation of the leaf
				// reports the bad value once.
				src.origin(s.key, SourceFile, path)
			}
			continue
		}
		if sub := sectionKeys(k); len(sub) > 0 {
			errs = append(errs, &FieldError{
				Key:    k,
				Value:  text(value),
				Want:   "a mapping with the keys " + strings.Join(sub, ", "),
				Source: path,
			})
			continue
		}
		errs = append(errs, &UnknownKeyError{Key: k, Want: suggest(k, fileKeys()), Source: path})
	}
	return errs
}

// settingFor returns the setting whose key is k or a dotted prefix of k
// ("listen" for "listen.x"), or nil.
func settingFor(k string) *setting {
	parts := strings.Split(k, ".")
	for i := 1; i <= len(parts); i++ {
		if s, ok := settingIndex[strings.Join(parts[:i], ".")]; ok {
			return s
		}
	}
	return nil
}

// sectionKeys lists the keys under section k ("size, memory" for "cache"),
// or nothing if k is not a section.
func sectionKeys(k string) []string {
	var sub []string
	for i := range settings {
		if rest, ok := strings.CutPrefix(settings[i].key, k+"."); ok {
			sub = append(sub, rest)
		}
	}
	return sub
}

// fileKeys lists the keys a config file may hold, in table order.
func fileKeys() []string {
	keys := make([]string, 0, len(settings))
	for i := range settings {
		if !settings[i].notInFile {
			keys = append(keys, settings[i].key)
		}
	}
	return keys
}
