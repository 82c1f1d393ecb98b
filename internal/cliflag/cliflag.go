// Package cliflag holds flag.Value types shared by ordo's commands.
package cliflag

import (
	"flag"
	"strings"
)

// List collects the values of a repeatable string flag, in the order given.
type List []string

var _ flag.Value = (*List)(nil)

// String joins the values with commas.
func (l *List) String() string { return strings.Join(*l, ",") }

// Set appends v.
func (l *List) Set(v string) error { *l = append(*l, v); return nil }
