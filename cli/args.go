package cli

import (
	"fmt"
	"strings"
)

// flagDef describes one flag: its canonical name, its aliases ("-f",
// "--filename") and whether it takes a value.
type flagDef struct {
	name    string
	aliases []string
	value   bool // takes a value; otherwise boolean
}

// flagDefs are all the flags ordo knows. A flag letter means the same thing in
// every command, so arguments are parsed once, kubectl-style (flags may come
// before or after positional arguments), and each command then checks that it
// was given only flags it accepts.
var flagDefs = []flagDef{
	{name: "server", aliases: []string{"--server", "-s"}, value: true},
	{name: "namespace", aliases: []string{"--namespace", "-n"}, value: true},
	{name: "all-namespaces", aliases: []string{"--all-namespaces", "-A"}},
	{name: "filename", aliases: []string{"--filename", "-f"}, value: true},
	{name: "output", aliases: []string{"--output", "-o"}, value: true},
	{name: "selector", aliases: []string{"--selector", "-l"}, value: true},
	{name: "watch", aliases: []string{"--watch", "-w"}},
	{name: "replicas", aliases: []string{"--replicas"}, value: true},
	{name: "dry-run", aliases: []string{"--dry-run"}},
	{name: "revision", aliases: []string{"--revision"}, value: true},
	{name: "to-revision", aliases: []string{"--to-revision"}, value: true},
	{name: "help", aliases: []string{"--help", "-h"}},
}

// args is the result of parsing a command line.
type args struct {
	pos   []string
	vals  map[string][]string // value flags, in order given
	bools map[string]bool
	order []string // flag names as given, for the "not accepted" check
}

func (a *args) value(name string) string {
	v := a.vals[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func (a *args) has(name string) bool {
	_, ok := a.vals[name]
	return ok || a.bools[name]
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

func lookupFlag(s string) (flagDef, bool) {
	for _, d := range flagDefs {
		for _, a := range d.aliases {
			if a == s {
				return d, true
			}
		}
	}
	return flagDef{}, false
}

// parseArgs splits argv into positional arguments and flags. Accepted forms:
// --flag value, --flag=value, -f value, -fvalue (single-letter value flags:
// -ojson, -lapp=web), boolean --flag or --flag=true|false, and "--" to end flags.
// "-" alone is a positional argument.
func parseArgs(argv []string) (*args, error) {
	a := &args{vals: map[string][]string{}, bools: map[string]bool{}}
	for i := 0; i < len(argv); i++ {
		s := argv[i]
		if s == "--" {
			a.pos = append(a.pos, argv[i+1:]...)
			break
		}
		if len(s) < 2 || s[0] != '-' {
			a.pos = append(a.pos, s)
			continue
		}
		name, val, hasVal := strings.Cut(s, "=")
		def, ok := lookupFlag(name)
		if !ok && !strings.HasPrefix(s, "--") && len(s) > 2 {
			// -ojson, -lapp=web, -f-
			if d, ok2 := lookupFlag(s[:2]); ok2 && d.value {
				def, ok, val, hasVal = d, true, strings.TrimPrefix(s[2:], "="), true
			}
		}
		if !ok {
			return nil, usagef("unknown flag %s", name)
		}
		a.order = append(a.order, def.name)
		if def.value {
			if !hasVal {
				if i+1 >= len(argv) {
					return nil, usagef("flag %s needs a value", name)
				}
				i++
				val = argv[i]
			}
			a.vals[def.name] = append(a.vals[def.name], val)
			continue
		}
		if !hasVal {
			a.bools[def.name] = true
			continue
		}
		switch strings.ToLower(val) {
		case "true", "1", "yes":
			a.bools[def.name] = true
		case "false", "0", "no", "none":
			a.bools[def.name] = false
		case "server", "client":
			if def.name == "dry-run" {
				a.bools[def.name] = true
				continue
			}
			fallthrough
		default:
			return nil, usagef("flag %s: invalid value %q (want true or false)", name, val)
		}
	}
	return a, nil
}

// only checks that a command was given only the flags it accepts (besides the
// global ones).
func (a *args) only(cmd string, accepted ...string) error {
	ok := map[string]bool{"server": true, "help": true}
	for _, n := range accepted {
		ok[n] = true
	}
	for _, n := range a.order {
		if !ok[n] {
			return usagef("ordo %s does not accept --%s", cmd, n)
		}
	}
	return nil
}

// parseSelector parses "k=v,k2=v2" (also k==v) into a map.
func parseSelector(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		v = strings.TrimPrefix(v, "=")
		if !ok || k == "" || strings.HasSuffix(k, "!") {
			return nil, usagef("invalid label selector %q: only key=value terms are supported", s)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}
