package manifest

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
)

var (
	unsupportedType = reflect.TypeOf(unsupported{})
	ignoredType     = reflect.TypeOf(ignored{})
	intOrStringType = reflect.TypeOf(intOrString{})
)

// maxFieldErrors bounds how many field errors one document reports.
const maxFieldErrors = 10

// check walks a generic JSON value (decoded with UseNumber) against the Go type
// that will receive it and reports every field that is unknown, unsupported or
// of the wrong type (up to maxFieldErrors), each named by its full path, as one
// error wrapping errdefs.ErrInvalid. Once check passes, json.Unmarshal into t
// cannot fail.
func check(v any, t reflect.Type) error {
	var errs []string
	walk("", v, t, &errs)
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errdefs.Invalid("", "%s", errs[0])
	}
	return errdefs.Invalid("", "%s", strings.Join(errs, "; "))
}

func walk(path string, v any, t reflect.Type, errs *[]string) {
	if len(*errs) >= maxFieldErrors {
		return
	}
	if err := checkOne(path, v, t, errs); err != nil {
		*errs = append(*errs, err.Error())
	}
}

// checkOne checks v against t; errors of nested fields go to errs.
func checkOne(path string, v any, t reflect.Type, errs *[]string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case unsupportedType:
		return errdefs.Invalid(path, "field not supported")
	case ignoredType:
		return nil
	}
	if v == nil {
		return nil // JSON null: as if absent
	}
	if t == intOrStringType {
		switch x := v.(type) {
		case string:
			return nil
		case json.Number:
			if _, err := strconv.ParseInt(x.String(), 10, 32); err != nil {
				return errdefs.Invalid(path, "must be an integer or a name, got %s", x)
			}
			return nil
		}
		return errdefs.Invalid(path, "must be an integer or a name, got %s", jsonType(v))
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return errdefs.Invalid(path, "must be an object, got %s", jsonType(v))
		}
		fields := structFields(t)
		for _, k := range sortedKeys(m) {
			f, ok := fields[k]
			if !ok {
				msg := "unknown field " + strconv.Quote(k)
				if s := suggest(k, fields); s != "" {
					msg += " (did you mean " + strconv.Quote(s) + "?)"
				}
				if len(*errs) < maxFieldErrors {
					*errs = append(*errs, errdefs.Invalid(join(path, k), "%s", msg).Error())
				}
				continue
			}
			walk(join(path, k), m[k], f, errs)
		}
		return nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return errdefs.Invalid(path, "must be an object, got %s", jsonType(v))
		}
		for _, k := range sortedKeys(m) {
			walk(path+"["+k+"]", m[k], t.Elem(), errs)
		}
		return nil
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			return errdefs.Invalid(path, "must be a list, got %s", jsonType(v))
		}
		for i, e := range a {
			walk(path+"["+strconv.Itoa(i)+"]", e, t.Elem(), errs)
		}
		return nil
	case reflect.String:
		if _, ok := v.(string); !ok {
			return errdefs.Invalid(path, "must be a string, got %s", jsonType(v))
		}
		return nil
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return errdefs.Invalid(path, "must be true or false, got %s", jsonType(v))
		}
		return nil
	case reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return errdefs.Invalid(path, "must be an integer, got %s", jsonType(v))
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			f, ferr := n.Float64()
			if ferr == nil && f == math.Trunc(f) {
				if math.Abs(f) < math.Ldexp(1, t.Bits()-1) {
					return nil // 3.0
				}
				return errdefs.Invalid(path, "%s is out of range", n)
			}
			return errdefs.Invalid(path, "must be an integer, got %s", n)
		}
		return nil
	case reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return errdefs.Invalid(path, "must be a number, got %s", jsonType(v))
		}
		if _, err := n.Float64(); err != nil {
			return errdefs.Invalid(path, "must be a number, got %s", n)
		}
		return nil
	}
	return errdefs.Invalid(path, "cannot be decoded")
}

// normalizeNumbers rewrites integral floats such as 3.0 to 3 so that
// encoding/json accepts them for integer fields.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	case json.Number:
		if _, err := x.Int64(); err != nil {
			if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return json.Number(strconv.FormatInt(int64(f), 10))
			}
		}
	}
	return v
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			for k, v := range structFields(f.Type) {
				out[k] = v
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string " + strconv.Quote(x)
	case bool:
		return "boolean"
	case json.Number:
		return "number " + x.String()
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return reflect.TypeOf(v).String()
}

// suggest returns the supported field closest to an unknown one, if any is close.
func suggest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for name, t := range fields {
		if t == unsupportedType || t == ignoredType {
			continue
		}
		if strings.EqualFold(name, k) {
			return name
		}
		if d := distance(strings.ToLower(name), strings.ToLower(k)); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
