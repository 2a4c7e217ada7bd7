package config

// Keys lists the key of every setting, in the settings table's order (the
// order of --help and of the errors), starting with config. The slice is
// the caller's.
func Keys() []string {
	keys := make([]string, 0, len(settings))
	for i := range settings {
		keys = append(keys, settings[i].key)
	}
	return keys
}
