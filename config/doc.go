// Package config turns rootwalk's command line, environment and YAML config
// file into one validated, typed Config. It is the only package of rootwalk
// that uses viper, and it imports nothing else from rootwalk; cmd calls it
// and copies the Config's fields into each package's Options.
//
// # One name, three spellings
//
// Every setting has a YAML key (snake_case, grouped with dots, such as
// cache.memory), a flag (the key with "." and "_" written as "-", such as
// --cache-memory) and an environment variable (ROOTWALK_ and the key
// upper-cased with "." written as "_", such as ROOTWALK_CACHE_MEMORY). A
// single table in settings.go declares each setting's key, default and
// help text; flag registration, the environment names, the defaults given
// to viper and the error messages all come from it. A few flags differ from
// the rule or have aliases, kept forever: --lab for lab.enabled,
// --anchor-out for lab.anchor_out, --negative-trust-anchor for
// dnssec.negative_trust_anchors and --dnssec-override-date for
// dnssec.override_date (the names issue 8 gives them), and --admin for
// --admin-listen.
//
// # Data flow
//
// cmd calls RegisterFlags on its flag set, parses the command line, then
// calls Load with the flag set and os.Environ(). Load:
//
//  1. picks the ROOTWALK_ variables out of the environment; one that names
//     no setting is an error, so typos are not silently ignored;
//  2. reads the config file (--config, else ROOTWALK_CONFIG, else
//     ./rootwalk.yaml if present) into a fresh viper.Viper and checks its
//     keys, so that unknown keys are errors naming the file;
//  3. gives viper every default, then the environment's values and the
//     flags the user set, in that order, so that the precedence is
//     flag > environment > file > default;
//  4. decodes with viper.UnmarshalExact into untyped fields and checks every
//     value, and then the rules between settings (the lab);
//  5. returns a Config, or an error with one line per problem, each naming
//     the key, the value, what would be accepted and where the value came
//     from.
//
// LoadWithSources does the same and also returns Sources: for every key
// that Keys lists, the value as the layers left it and the layer it came
// from (default, the file with its path, a variable, a flag), which
// rootwalk config print shows.
//
// Lists are repeatable flags, YAML lists, or comma-separated in the
// environment. An empty value from the environment is honoured:
// ROOTWALK_ADMIN_LISTEN= disables the admin API.
//
// Load keeps no state; it is safe to call from several goroutines at once,
// provided that the flag set is not being parsed meanwhile.
package config
