package manifest

import (
	"fmt"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
)

// Error is every problem that Decode or Normalize found, one per line, each
// naming its object (in Decode) and field: "StatefulSet default/web:
// spec.replicas: must be >= 0". It wraps errdefs.ErrInvalid.
type Error struct {
	Problems []string
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Unwrap makes errors.Is(err, errdefs.ErrInvalid) hold.
func (e *Error) Unwrap() error { return errdefs.ErrInvalid }

// report collects the problems and warnings of one object, each as
// "path: message".
type report struct {
	errs  []string
	warns []string
	// bad are the paths of values that could not be decoded; problems found
	// later at or under them would only repeat the first one.
	bad []string
}

// errorf records a problem of the field at path ("" for the object itself).
func (r *report) errorf(path, format string, args ...any) {
	for _, b := range r.bad {
		if under(path, b) {
			return
		}
	}
	r.errs = append(r.errs, line(path, fmt.Sprintf(format, args...)))
}

// badf records a value that could not be decoded: nothing more is said
// about its path.
func (r *report) badf(path, format string, args ...any) {
	r.errorf(path, format, args...)
	r.bad = append(r.bad, path)
}

// warnf records a field that is accepted but has no effect here.
func (r *report) warnf(path, format string, args ...any) {
	r.warns = append(r.warns, line(path, fmt.Sprintf(format, args...)))
}

// err is the problems as an *Error, or nil.
func (r *report) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return &Error{Problems: append([]string(nil), r.errs...)}
}

func line(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

// under says whether path is p or a field or item inside it.
func under(path, p string) bool {
	if p == "" {
		return true
	}
	if !strings.HasPrefix(path, p) {
		return false
	}
	rest := path[len(p):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// join is the path of field k inside path.
func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// index is the path of item i of the list at path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
