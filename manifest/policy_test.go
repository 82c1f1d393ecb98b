package manifest

import (
	"fmt"
	"reflect"
	"testing"
)

// Every field the rules name is a field of its type, and every struct that
// an accepted field leads to has rules of its own: a struct without rules
// would have all its fields refused.
func TestFieldRulesCoverTheTypes(t *testing.T) {
	for typ, rs := range fieldRules {
		fields := jsonFields(typ)
		for name := range rs {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s has no field %q", typ, name)
			}
		}
	}
	seen := map[string]bool{}
	var visit func(path string, typ reflect.Type, rs rules)
	visit = func(path string, typ reflect.Type, rs rules) {
		key := fmt.Sprintf("%s %p", typ, rs)
		if seen[key] {
			return
		}
		seen[key] = true
		for _, f := range structFields(typ) {
			ru, ok := rs[f.name]
			if !ok && f.owner != typ {
				ru, ok = fieldRules[f.owner][f.name]
			}
			if !ok || (ru.verdict != allowed && ru.byValue == nil) {
				continue
			}
			ft := f.field.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8 {
					break
				}
				ft = ft.Elem()
			}
			if ft.Kind() != reflect.Struct || leafTypes[ft] {
				continue
			}
			child := ru.fields
			if child == nil {
				child = fieldRules[ft]
			}
			if child == nil {
				t.Errorf("%s.%s: %s has no rules", path, f.name, ft)
				continue
			}
			visit(join(path, f.name), ft, child)
		}
	}
	for name, d := range decoders {
		typ := reflect.TypeOf(d.target()).Elem()
		visit(name, typ, fieldRules[typ])
	}
}
