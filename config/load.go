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
	env, errs := readEnviron(environ)
	// src records which settings the user set, and where: error
	// messages name it, and some checks depend on whether a setting was
	// set at all.
	src := map[string]string{}

	v := viper.New()
	choice := chooseFile(fs, env)
	read, err := readFile(v, choice)
	if err != nil {
		errs = append(errs, err)
	}
	var fileErrs []error
	if read {
		fileErrs = checkFileKeys(v, choice.path, src)
		errs = append(errs, fileErrs...)
	}
	setDefaults(v)
	setEnv(v, env, src)
	setFlags(v, fs, src)

	var raw rawConfig
	// The file's unknown keys are also decode errors; they were already
	// reported one by one, with better messages.
	if err := v.UnmarshalExact(&raw); err != nil && len(fileErrs) == 0 {
		errs = append(errs, fmt.Errorf("%s: decode settings: %w", keyConfig, lineError{err}))
	}
	cfg, buildErrs := build(&raw, src)
	errs = append(errs, buildErrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if read {
		cfg.File = choice.path
	}
	return cfg, nil
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
func setEnv(v *viper.Viper, env envLayer, src map[string]string) {
	for i := range settings {
		s := &settings[i]
		value, ok := env.values[s.key]
		if !ok || s.key == keyConfig {
			continue
		}
		v.Set(s.key, value)
		src[s.key] = env.names[s.key]
	}
}

// setFlags puts the flags that the user set above everything else. A flag
// left at its default is ignored: it must not hide the file or the
// environment.
func setFlags(v *viper.Viper, fs *pflag.FlagSet, src map[string]string) {
	for i := range settings {
		s := &settings[i]
		f := s.changedFlag(fs)
		if f == nil || s.key == keyConfig {
			continue
		}
		v.Set(s.key, flagValue(s, f))
		src[s.key] = "--" + f.Name
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
