package config

import "github.com/spf13/viper"

// SourceKind says which layer of the configuration a setting's value came
// from.
type SourceKind string

// The layers, from the lowest precedence to the highest.
const (
	// SourceDefault is the settings table's default.
	SourceDefault SourceKind = "default"
	// SourceFile is the YAML config file.
	SourceFile SourceKind = "file"
	// SourceEnv is a ROOTWALK_ environment variable.
	SourceEnv SourceKind = "env"
	// SourceFlag is a command-line flag.
	SourceFlag SourceKind = "flag"
)

// Source is where one setting's effective value came from, and that value
// as the layers gave it, before validation (128MiB stays 128MiB).
type Source struct {
	// Kind is the layer that set the value.
	Kind SourceKind
	// Name is the config file's path (SourceFile), the environment
	// variable (SourceEnv, such as ROOTWALK_CACHE_SIZE) or the flag
	// (SourceFlag, such as --cache-size); empty for SourceDefault.
	Name string
	// IsList reports whether the setting holds a list: its value is then
	// List, and Value is empty.
	IsList bool
	// Value is the value of a setting that holds one, as text.
	Value string
	// List is the items of a list setting, as text; empty, not nil,
	// for an empty list.
	List []string
}

// String returns the source as "default", "file PATH", "env NAME" or
// "flag --NAME".
func (s Source) String() string {
	if s.Name == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + " " + s.Name
}

// Sources maps every setting's key (as Keys lists them) to where its
// effective value came from.
type Sources map[string]Source

// origin records where a setting the user set came from. Sources and the
// text the error messages name (the path, the variable or the flag) are
// kept together, so the two cannot disagree.
func (s Sources) origin(key string, kind SourceKind, name string) {
	s[key] = Source{Kind: kind, Name: name}
}

// names returns the text each user-set setting's errors name as their
// source: the file's path, the variable or the flag.
func (s Sources) names() map[string]string {
	m := make(map[string]string, len(s))
	for k, src := range s {
		m[k] = src.Name
	}
	return m
}

// complete gives every setting of the table but config an entry, with
// the value v holds after all the layers: settings that no layer set are
// defaults.
func (s Sources) complete(v *viper.Viper) {
	for i := range settings {
		st := &settings[i]
		if st.key == keyConfig {
			continue
		}
		src, ok := s[st.key]
		if !ok {
			src = Source{Kind: SourceDefault}
		}
		src.IsList = st.isList()
		if src.IsList {
			src.List = listText(v.Get(st.key))
		} else {
			src.Value = text(v.Get(st.key))
		}
		s[st.key] = src
	}
}

// configSource is config's entry: the file read, named by --config or
// ROOTWALK_CONFIG, or found in the working directory (a default); empty
// when no file was read.
func configSource(c fileChoice, read bool) Source {
	if !read {
		if c.explicit {
			// --config "" or ROOTWALK_CONFIG=: no file, on purpose.
			return Source{Kind: c.kind, Name: c.source}
		}
		return Source{Kind: SourceDefault}
	}
	if c.explicit {
		return Source{Kind: c.kind, Name: c.source, Value: c.path}
	}
	return Source{Kind: SourceDefault, Value: c.path}
}

// listText renders a list value, from any layer, item by item.
func listText(v any) []string {
	items, _ := listItems(v) // a mapping here was already reported by build
	out := make([]string, 0, len(items))
	for _, item := range items {
		out = append(out, text(item))
	}
	return out
}
