package config

import (
	"slices"
	"strings"
)

// envSource is the Source of errors about unknown environment variables.
const envSource = "environment"

// envLayer is the settings found in the environment.
type envLayer struct {
	// values maps a key to its value: a string, or a []string for a list.
	values map[string]any
	// names maps a key to the variable that set it.
	names map[string]string
}

// readEnviron picks the ROOTWALK_ variables out of environ ("NAME=value"
// entries, as os.Environ returns them). An empty value is kept: it is how a
// user sets a setting to empty (ROOTWALK_ADMIN_LISTEN= disables the admin
// API). A list is split on commas. When a name appears twice the first one
// wins, as with os.Getenv. Every ROOTWALK_ variable that names no setting is
// an error, so a typo is not silently ignored.
func readEnviron(environ []string) (envLayer, []error) {
	env := envLayer{values: map[string]any{}, names: map[string]string{}}
	seen := map[string]bool{}
	var unknown []string
	for _, entry := range environ {
		name, value, ok := strings.Cut(entry, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || seen[name] {
			continue
		}
		seen[name] = true
		s, ok := envIndex[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if s.isList() {
			env.values[s.key] = splitList(value)
		} else {
			env.values[s.key] = value
		}
		env.names[s.key] = name
	}
	slices.Sort(unknown)
	errs := make([]error, 0, len(unknown))
	for _, name := range unknown {
		errs = append(errs, &UnknownKeyError{Key: name, Want: suggest(name, envNames()), Source: envSource})
	}
	return env, errs
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items, so "a, b," is [a b] and "" is the empty list.
func splitList(s string) []string {
	items := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// envNames lists every setting's environment variable, in table order.
func envNames() []string {
	names := make([]string, 0, len(settings))
	for i := range settings {
		names = append(names, settings[i].envName())
	}
	return names
}

// maxSuggestLen bounds the names that suggest compares, since the edit
// distance costs the product of the two lengths.
const maxSuggestLen = 64

// suggest names what would be accepted instead of an unknown name: the
// nearest known name if one is a small edit away, else all of them.
func suggest(name string, known []string) string {
	if len(name) <= maxSuggestLen {
		best, bestDist := "", -1
		for _, k := range known {
			d := editDistance(strings.ToLower(name), strings.ToLower(k))
			if bestDist < 0 || d < bestDist {
				best, bestDist = k, d
			}
		}
		// A name within two edits, and closer than half its own length,
		// is taken for a typo of the known one.
		if bestDist >= 0 && bestDist <= 2 && 2*bestDist < len(name) {
			return best
		}
	}
	return "one of " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
