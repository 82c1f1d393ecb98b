package manifest

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	quantityType     = reflect.TypeOf(resource.Quantity{})
	intOrStringType  = reflect.TypeOf(intstr.IntOrString{})
	timeType         = reflect.TypeOf(metav1.Time{})
	probeType        = reflect.TypeOf(corev1.Probe{})
	resourceNameType = reflect.TypeOf(corev1.ResourceName(""))
	unmarshalerType  = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
)

// probeNumbers are the fields of a probe that ordo reads as written: the
// times may have fractions (periodSeconds: 0.2), and an explicit 0 is an
// error rather than the default.
var probeNumbers = map[string]bool{
	"initialDelaySeconds": true, "periodSeconds": true, "timeoutSeconds": true,
	"successThreshold": true, "failureThreshold": true,
}

// shape checks a JSON value (decoded with UseNumber) against the Go type
// that will receive it, before the strict decode. Every value of the wrong
// type is reported by its path and removed, so that the decode that follows
// cannot stop at the first one; integral numbers written as 3.0 become 3.
// Unknown fields are left to the strict decode, which names them all.
type shape struct {
	r *report
	// probes holds the probe numbers as written, by path
	// ("spec.template.spec.containers[0].readinessProbe.periodSeconds").
	probes map[string]json.Number
	// quantities holds the quantities as written ("0.5", "1Gi"), by path.
	quantities map[string]string
}

// check returns v as the strict decode should see it; ok false means the
// value is to be dropped.
func (s *shape) check(path string, v any, t reflect.Type) (any, bool) {
	if v == nil {
		return nil, true // null: as if absent
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case quantityType:
		var str string
		switch x := v.(type) {
		case string:
			str = x
		case json.Number:
			str = x.String()
		default:
			s.r.badf(path, "must be a quantity (examples: 1Gi, 500Mi, 10G, 500m), got %s", jsonType(v))
			return nil, false
		}
		if _, err := resource.ParseQuantity(strings.TrimSpace(str)); err != nil {
			s.r.badf(path, "%q is not a quantity (examples: 1Gi, 500Mi, 10G, 500m)", str)
			return nil, false
		}
		s.quantities[path] = strings.TrimSpace(str)
		return v, true
	case intOrStringType:
		switch x := v.(type) {
		case string:
			return v, true
		case json.Number:
			if n, ok := integer(x, 32); ok {
				return n, true
			}
		}
		s.r.badf(path, "must be an integer or a name, got %s", jsonType(v))
		return nil, false
	case timeType:
		if str, ok := v.(string); ok {
			var tm metav1.Time
			if tm.UnmarshalJSON([]byte(strconv.Quote(str))) == nil {
				return v, true
			}
		}
		s.r.badf(path, "must be a time (RFC 3339), got %s", jsonType(v))
		return nil, false
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return v, true // its own format; the strict decode reports what it refuses
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			s.r.badf(path, "must be an object, got %s", jsonType(v))
			return nil, false
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(m) {
			ft, ok := fields[k]
			if !ok {
				continue // the strict decode names it
			}
			p := join(path, k)
			if t == probeType && probeNumbers[k] {
				s.probeNumber(p, m[k])
				delete(m, k)
				continue
			}
			if nv, ok := s.check(p, m[k], ft); ok {
				m[k] = nv
			} else {
				delete(m, k)
			}
		}
		return m, true
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			s.r.badf(path, "must be an object, got %s", jsonType(v))
			return nil, false
		}
		for _, k := range sortedKeys(m) {
			// Resources are fields of their own (resources.requests.storage);
			// other keys are free text (labels[app]).
			p := path + "[" + k + "]"
			if t.Key() == resourceNameType {
				p = join(path, k)
			}
			if nv, ok := s.check(p, m[k], t.Elem()); ok {
				m[k] = nv
			} else {
				delete(m, k)
			}
		}
		return m, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte: base64 text
			str, ok := v.(string)
			if !ok {
				s.r.badf(path, "must be base64 text, got %s", jsonType(v))
				return nil, false
			}
			if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				s.r.badf(path, "must be base64 text: %v", err)
				return nil, false
			}
			return v, true
		}
		a, ok := v.([]any)
		if !ok {
			s.r.badf(path, "must be a list, got %s", jsonType(v))
			return nil, false
		}
		out := a[:0]
		for i, e := range a {
			if nv, ok := s.check(index(path, i), e, t.Elem()); ok {
				out = append(out, nv)
			} else {
				out = append(out, nil)
			}
		}
		return out, true
	case reflect.String:
		if _, ok := v.(string); !ok {
			s.r.badf(path, "must be a string, got %s", jsonType(v))
			return nil, false
		}
		return v, true
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			s.r.badf(path, "must be true or false, got %s", jsonType(v))
			return nil, false
		}
		return v, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			s.r.badf(path, "must be an integer, got %s", jsonType(v))
			return nil, false
		}
		if out, ok := integer(n, t.Bits()); ok {
			if t.Kind() >= reflect.Uint && strings.HasPrefix(string(out), "-") {
				s.r.badf(path, "must be >= 0, got %s", n)
				return nil, false
			}
			return out, true
		}
		if f, err := n.Float64(); err == nil && f == math.Trunc(f) {
			s.r.badf(path, "%s is out of range", n)
		} else {
			s.r.badf(path, "must be an integer, got %s", n)
		}
		return nil, false
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			s.r.badf(path, "must be a number, got %s", jsonType(v))
			return nil, false
		}
		return v, true
	case reflect.Interface:
		return v, true
	}
	s.r.badf(path, "cannot be decoded")
	return nil, false
}

// probeNumber keeps a probe's number as written.
func (s *shape) probeNumber(path string, v any) {
	if v == nil {
		return
	}
	n, ok := v.(json.Number)
	if !ok {
		s.r.badf(path, "must be a number, got %s", jsonType(v))
		return
	}
	if _, err := n.Float64(); err != nil {
		s.r.badf(path, "must be a number, got %s", n)
		return
	}
	s.probes[path] = n
}

// integer is n as a whole number that fits in bits, written without a
// fraction (3.0 becomes 3).
func integer(n json.Number, bits int) (json.Number, bool) {
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || !r.IsInt() {
		return "", false
	}
	i := r.Num()
	limit := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	if i.Cmp(limit) >= 0 || i.Cmp(new(big.Int).Neg(limit)) < 0 {
		return "", false
	}
	return json.Number(i.String()), true
}

// jsonFields are the JSON names of a struct's fields, with those of inlined
// structs, and their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range structFields(t) {
		out[f.name] = f.field.Type
	}
	return out
}

// field is a struct field as JSON names it; index leads to it through
// inlined structs.
type field struct {
	name  string
	owner reflect.Type // the struct that declares it
	index []int
	field reflect.StructField
}

// structFields lists the JSON fields of a struct, inlined ones included,
// in declaration order.
func structFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if (f.Anonymous && name == "") || strings.Contains(","+opts+",", ",inline,") {
			for _, in := range structFields(f.Type) {
				in.index = append([]int{i}, in.index...)
				out = append(out, in)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, owner: t, index: []int{i}, field: f})
	}
	return out
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
