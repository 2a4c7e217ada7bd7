package config

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError reports a setting whose value is not accepted. Load returns one
// per problem, joined with errors.Join, so that its message has one line per
// problem; use errors.As to find them.
type FieldError struct {
	// Key is the setting's key, such as "cache.size".
	Key string
	// Value is the offending value as text.
	Value string
	// Want says what would be accepted.
	Want string
	// Source says where the value came from: a flag ("--listen"), an
	// environment variable ("ROOTWALK_LISTEN") or the config file's path.
	// It is empty for a default.
	Source string
}

// Error returns a line such as
// `listen: "abc" is not valid; want IP:PORT such as 127.0.0.1:53 (from --listen)`.
func (e *FieldError) Error() string {
	msg := fmt.Sprintf("%s: %q is not valid; want %s", keyText(e.Key), e.Value, e.Want)
	return withSource(msg, e.Source)
}

// UnknownKeyError reports a key in the config file, or a ROOTWALK_
// environment variable, that names no setting. Its value is left out of the
// message, since it may be a secret whose name was mistyped.
type UnknownKeyError struct {
	// Key is the name as written, such as "cache.siz" or
	// "ROOTWALK_CACHE_SIZ".
	Key string
	// Want is the nearest known name, or the list of known names.
	Want string
	// Source is the config file's path, or "environment".
	Source string
}

// Error returns a line such as
// `ROOTWALK_CACHE_SIZ: unknown setting; want ROOTWALK_CACHE_SIZE (from environment)`.
func (e *UnknownKeyError) Error() string {
	return withSource(fmt.Sprintf("%s: unknown setting; want %s", keyText(e.Key), e.Want), e.Source)
}

// FileError reports a config file that could not be read or parsed. It wraps
// the underlying error, so errors.Is(err, fs.ErrNotExist) works.
type FileError struct {
	// Path is the file's path.
	Path string
	// Op is "read" or "parse".
	Op string
	// Source says who named the file: "--config", "ROOTWALK_CONFIG" or
	// "working directory".
	Source string
	// Err is the underlying error.
	Err error
}

// Error returns a line such as
// `config: cannot parse "rootwalk.yaml": yaml: line 2: did not find expected key (from --config)`.
func (e *FileError) Error() string {
	// The path is already in the message; drop the *fs.PathError's copy.
	cause := pathCause(e.Err)
	msg := fmt.Sprintf("%s: cannot %s %q: %s", keyConfig, e.Op, e.Path, oneLine(cause.Error()))
	return withSource(msg, e.Source)
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// withSource appends " (from SOURCE)" when the source is known.
func withSource(msg, source string) string {
	if source == "" {
		return msg
	}
	return msg + " (from " + source + ")"
}

// oneLine folds a multi-line message (yaml.v3 lists type errors on
// indented lines) into one line, so that every problem stays one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// keyText writes a key as is when it is a plain name, and quoted otherwise
// (empty, or with spaces or control characters from a YAML file), so that
// the message stays one readable line.
func keyText(k string) string {
	plain := k != "" && strings.IndexFunc(k, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && !strings.ContainsRune("._-", r)
	}) < 0
	if plain {
		return k
	}
	return strconv.Quote(k)
}

// lineError keeps an error's chain but folds its message onto one line,
// for errors from libraries whose messages span several lines.
type lineError struct{ err error }

func (e lineError) Error() string { return oneLine(e.err.Error()) }

func (e lineError) Unwrap() error { return e.err }
