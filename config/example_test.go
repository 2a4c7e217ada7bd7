package config

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// examplePath is the example config file that make install puts in
// /etc/rootwalk, relative to this package.
const examplePath = "../deploy/rootwalk.example.yaml"

// regenerate is the command that rewrites the example file.
const regenerate = "go test ./config -run TestExampleConfig -update"

var updateExample = flag.Bool("update", false, "rewrite "+examplePath+" from the settings table")

// exampleHeader starts the example file.
const exampleHeader = `# rootwalk's configuration: every setting, set to its default.
#
# make install copies this file to /etc/rootwalk/rootwalk.yaml (and never
# over one that is there), where the systemd unit's
# "rootwalk serve --config /etc/rootwalk/rootwalk.yaml" reads it. Change what
# you need; a key you delete keeps its default. A flag or a ROOTWALK_
# environment variable wins over this file (flag > environment > file >
# default). "rootwalk config check --config FILE" checks a file (exit status
# 2 and one line per problem); "rootwalk config print" shows every value in
# effect and where it came from. Secrets (admin.token, cache.redis.seed,
# server.cookie_secret) are better kept out of a file every user can read:
# the unit also reads ROOTWALK_ variables from /etc/rootwalk/rootwalk.env.
#
# Generated from the settings table (config/settings.go) by
#   ` + regenerate + `
# so edit the table's help text, not this file.
`

// commentWidth is where the example's comments wrap.
const commentWidth = 78

// TestExampleConfig checks deploy/rootwalk.example.yaml: it has every
// setting, it loads, it means the defaults, and it is what the settings
// table generates. With -update it is rewritten first.
func TestExampleConfig(t *testing.T) {
	want := generateExample()
	if *updateExample {
		if err := os.WriteFile(examplePath, []byte(want), 0o644); err != nil {
			t.Fatalf("update the example: %v", err)
		}
	}
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatalf("read the example config: %v; write it with %s", err, regenerate)
	}

	t.Run("every setting", func(t *testing.T) {
		_, src, err := LoadWithSources(parsedFlags(t, "--config", examplePath), nil)
		if err != nil {
			t.Fatalf("%s does not load; regenerate it with %s:\n%v", examplePath, regenerate, err)
		}
		var missing []string
		for _, k := range fileKeys() {
			if src[k].Kind != SourceFile {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s lacks the settings %s; regenerate it from the settings table with %s",
				examplePath, strings.Join(missing, ", "), regenerate)
		}
	})

	t.Run("means the defaults", func(t *testing.T) {
		got, err := Load(parsedFlags(t, "--config", examplePath), nil)
		if err != nil {
			t.Fatalf("%s does not load:\n%v", examplePath, err)
		}
		defaults, err := Load(parsedFlags(t, "--config", ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		got.File = ""
		if !reflect.DeepEqual(got, defaults) {
			t.Errorf("%s does not load as the defaults; regenerate it with %s\ngot  %+v\nwant %+v",
				examplePath, regenerate, got, defaults)
		}
	})

	t.Run("up to date", func(t *testing.T) {
		if got := string(data); got != want {
			line, gotLine, wantLine := firstDiff(got, want)
			t.Errorf("%s differs from what the settings table generates, first at line %d:\ngot  %q\nwant %q\nregenerate it with %s",
				examplePath, line, gotLine, wantLine, regenerate)
		}
	})
}

// firstDiff returns the first line, counted from 1, where a and b differ,
// and that line of each.
func firstDiff(a, b string) (int, string, string) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return i + 1, x, y
		}
	}
	return 0, "", ""
}

// exampleNode is a section of the example file, or a setting in one.
type exampleNode struct {
	name     string
	setting  *setting // nil for a section
	children []*exampleNode
}

// child returns the child called name, adding it if there is none.
func (n *exampleNode) child(name string) *exampleNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	c := &exampleNode{name: name}
	n.children = append(n.children, c)
	return c
}

// generateExample writes the example file from the settings table: each
// setting that a file may hold, in table order with a section where its
// first setting is, its help text and default in a comment above it.
func generateExample() string {
	root := &exampleNode{}
	for i := range settings {
		s := &settings[i]
		if s.notInFile {
			continue
		}
		n := root
		for part := range strings.SplitSeq(s.key, ".") {
			n = n.child(part)
		}
		n.setting = s
	}
	var b strings.Builder
	b.WriteString(exampleHeader)
	for _, c := range root.children {
		b.WriteString("\n")
		writeExampleNode(&b, c, "")
	}
	return b.String()
}

func writeExampleNode(b *strings.Builder, n *exampleNode, indent string) {
	if n.setting == nil {
		fmt.Fprintf(b, "%s%s:\n", indent, n.name)
		for i, c := range n.children {
			if i > 0 {
				b.WriteString("\n")
			}
			writeExampleNode(b, c, indent+"  ")
		}
		return
	}
	s := n.setting
	for _, line := range wrap(exampleComment(s), commentWidth-len(indent)-2) {
		fmt.Fprintf(b, "%s# %s\n", indent, line)
	}
	if items, ok := s.def.([]string); ok && len(items) > 0 {
		fmt.Fprintf(b, "%s%s:\n", indent, n.name)
		for _, item := range items {
			fmt.Fprintf(b, "%s  - %s\n", indent, strconv.Quote(item))
		}
		return
	}
	fmt.Fprintf(b, "%s%s: %s\n", indent, n.name, yamlValue(s.def))
}

// exampleComment is a setting's key and help text, then its default, flag
// and environment variable.
func exampleComment(s *setting) string {
	usage := strings.TrimSuffix(strings.ReplaceAll(s.usage, "`", ""), ".")
	return fmt.Sprintf("%s: %s. Default: %s; flag --%s, environment %s.",
		s.key, usage, defaultText(s.def), s.flagName(), s.envName())
}

// defaultText says a default in words for the comment.
func defaultText(def any) string {
	switch d := def.(type) {
	case string:
		if d == "" {
			return "empty"
		}
		return d
	case []string:
		if len(d) == 0 {
			return "none"
		}
		return strings.Join(d, ", ")
	}
	return yamlValue(def)
}

// yamlValue writes a default as YAML: strings double-quoted, so that no
// value is read as another type, and an empty list as [].
func yamlValue(def any) string {
	switch d := def.(type) {
	case string:
		return strconv.Quote(d)
	case float64:
		return strconv.FormatFloat(d, 'f', -1, 64)
	case []string:
		if len(d) == 0 {
			return "[]"
		}
	}
	return fmt.Sprint(def)
}

// wrap breaks text into lines of at most width bytes, between words; a
// longer word gets a line of its own.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
