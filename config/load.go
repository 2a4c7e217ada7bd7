package config

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Load builds the configuration from, in increasing precedence, the
// defaults, the YAML config file, the ROOTWALK_ variables of environ and the
// flags of fs that the user set. fs is normally a flag set that
// RegisterFlags filled and that has been parsed; it may be nil. environ holds
// "NAME=value" entries, as os.Environ returns them; it is passed in so that
// callers and tests control it.
//
// The config file is the one named by --config or ROOTWALK_CONFIG, or else
// ./rootwalk.yaml if present. The values are decoded with
// viper.UnmarshalExact and checked, and Load returns either a valid Config
// or an error listing every problem found, one per line: each is a
// *FieldError, *UnknownKeyError or *FileError, joined with errors.Join.
func Load(fs *pflag.FlagSet, environ []string) (*Config, error) {
	cfg, _, err := LoadWithSources(fs, environ)
	return cfg, err
}

// LoadWithSources is Load, and also says where each setting's value came
// from: a default, the config file (with its path), an environment
// variable or a flag, with the value as that layer gave it. Sources has an
// entry for every key Keys lists; it is nil when err is not.
func LoadWithSources(fs *pflag.FlagSet, environ []string) (*Config, Sources, error) {
	env, errs := readEnviron(environ)
	// set records which settings the user set, and where: error
	// messages name it, some checks depend on whether a setting was set
	// at all, and config print shows it.
	set := Sources{}

	v := viper.New()
	choice := chooseFile(fs, env)
	read, err := readFile(v, choice)
	if err != nil {
		errs = append(errs, err)
	}
	var fileErrs []error
	if read {
		fileErrs = checkFileKeys(v, choice.path, set)
		errs = append(errs, fileErrs...)
	}
	setDefaults(v)
	setEnv(v, env, set)
	setFlags(v, fs, set)

	var raw rawConfig
	// The file's unknown keys are also decode errors; they were already
	// reported one by one, with better messages.
	if err := v.UnmarshalExact(&raw); err != nil && len(fileErrs) == 0 {
		errs = append(errs, fmt.Errorf("%s: decode settings: %w", keyConfig, lineError{err}))
	}
	cfg, buildErrs := build(&raw, set.names())
	errs = append(errs, buildErrs...)
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if read {
		cfg.File = choice.path
	}
	set.complete(v)
	set[keyConfig] = configSource(choice, read)
	return cfg, set, nil
}

// setDefaults gives every setting its default. Every key needs one: viper
// only decodes the keys it knows of (spf13/viper issues #188 and #761).
// config has none, since it is resolved before viper is involved and is
// never decoded.
func setDefaults(v *viper.Viper) {
	for i := range settings {
		if s := &settings[i]; s.key != keyConfig {
			v.SetDefault(s.key, s.defaultValue())
		}
	}
}

// setEnv puts the environment's settings above the file's. viper's own
// environment support reads the process environment, not environ, so they
// go into viper's override layer; setFlags then overwrites them there.
func setEnv(v *viper.Viper, env envLayer, src Sources) {
	for i := range settings {
		s := &settings[i]
		value, ok := env.values[s.key]
		if !ok || s.key == keyConfig {
			continue
		}
		v.Set(s.key, value)
		src.origin(s.key, SourceEnv, env.names[s.key])
	}
}

// setFlags puts the flags that the user set above everything else. A flag
// left at its default is ignored: it must not hide the file or the
// environment.
func setFlags(v *viper.Viper, fs *pflag.FlagSet, src Sources) {
	for i := range settings {
		s := &settings[i]
		f := s.changedFlag(fs)
		if f == nil || s.key == keyConfig {
			continue
		}
		v.Set(s.key, flagValue(s, f))
		src.origin(s.key, SourceFlag, "--"+f.Name)
	}
}

// flagValue returns a flag's value as text, or as a []string for a list,
// for the same checks as the other layers' values.
func flagValue(s *setting, f *pflag.Flag) any {
	if !s.isList() {
		return f.Value.String()
	}
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return slices.Clone(sv.GetSlice())
	}
	return splitList(f.Value.String())
}
