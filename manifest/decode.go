// Package manifest turns Kubernetes YAML or JSON into ordo's API objects,
// applies the defaults and validates them.
//
// A manifest holds apps/v1 StatefulSet, v1 Service, v1 PersistentVolume,
// v1 PersistentVolumeClaim, storage.k8s.io/v1 StorageClass, v1 ConfigMap,
// v1 Secret and policy/v1 PodDisruptionBudget objects. Each document is
// decoded strictly into the Kubernetes API types (k8s.io/api), so that a
// misspelt or unknown field is an error by its full path
// ("spec.template.spec.containers[0].imagee: unknown field"), and then
// converted to ordo's messages. A Kubernetes field that ordo does not
// implement is refused by its path ("field not supported"); one that can
// have no effect here is accepted with a warning that says so (see
// policy.go); nothing is dropped silently. ServiceAccount and RBAC objects
// are accepted with a warning and not stored: pods here have no API to
// call.
//
// One Decode reports every problem of every document at once, each line
// prefixed with its object ("StatefulSet default/web: spec.replicas: must be
// >= 0").
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// Result is what a manifest holds: its objects, defaulted and valid, and
// the warnings about fields and objects accepted without effect, each
// prefixed with its object ("StatefulSet default/zk:
// spec.template.spec.serviceAccountName: ...").
type Result struct {
	Objects  []*ordov1.Object
	Warnings []string
}

// unstoredKinds are accepted with a warning and not stored, by kind, with
// their API version.
var unstoredKinds = map[string]struct {
	apiVersion string
	namespaced bool
}{
	"ServiceAccount":     {"v1", true},
	"Role":               {"rbac.authorization.k8s.io/v1", true},
	"RoleBinding":        {"rbac.authorization.k8s.io/v1", true},
	"ClusterRole":        {"rbac.authorization.k8s.io/v1", false},
	"ClusterRoleBinding": {"rbac.authorization.k8s.io/v1", false},
}

// Decode parses one or more YAML documents (separated by "---") or JSON
// objects (a "List" of items too) into objects, with defaults applied and
// validated by Normalize. The error, which wraps errdefs.ErrInvalid, is an
// *Error with every problem found.
func Decode(data []byte) (*Result, error) {
	d := &decoding{res: &Result{}, seen: map[string]bool{}}
	n := 0
	for _, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			n++
			d.problem(fmt.Sprintf("document %d", n), "invalid YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
			continue
		}
		js = bytes.TrimSpace(js)
		if string(js) == "null" || len(js) == 0 {
			continue // only comments
		}
		n++
		label := fmt.Sprintf("document %d", n)
		var v any
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			d.problem(label, "invalid document: %v", err)
			continue
		}
		d.value(label, v)
	}
	if len(d.problems) > 0 {
		return nil, &Error{Problems: d.problems}
	}
	if n == 0 {
		return nil, errdefs.Invalid("", "manifest contains no objects")
	}
	return d.res, nil
}

// decoding is the state of one Decode.
type decoding struct {
	res      *Result
	problems []string
	seen     map[string]bool // kind/namespace/name
}

func (d *decoding) problem(prefix, format string, args ...any) {
	d.problems = append(d.problems, prefix+": "+fmt.Sprintf(format, args...))
}

// value decodes one document, or one item of a List.
func (d *decoding) value(label string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		d.problem(label, "must be an object, got %s", jsonType(v))
		return
	}
	kind, ok := m["kind"].(string)
	if !ok && m["kind"] != nil {
		d.problem(label, "kind: must be a string, got %s", jsonType(m["kind"]))
		return
	}
	if kind == "" {
		d.problem(label, "kind: required")
		return
	}
	apiVersion, ok := m["apiVersion"].(string)
	if !ok && m["apiVersion"] != nil {
		d.problem(label, "apiVersion: must be a string, got %s", jsonType(m["apiVersion"]))
		return
	}
	if kind == "List" {
		items, ok := m["items"].([]any)
		if !ok {
			d.problem(label, "items: must be a list")
			return
		}
		for i, it := range items {
			d.value(fmt.Sprintf("%s items[%d]", label, i), it)
		}
		return
	}
	var name, ns string
	if md, ok := m["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
		ns, _ = md["namespace"].(string)
	}

	if u, ok := unstoredKinds[kind]; ok {
		prefix := objectName(label, kind, u.namespaced, ns, name)
		if apiVersion != u.apiVersion {
			d.problem(prefix, "apiVersion: %q is not supported for kind %s (want %s)", apiVersion, kind, u.apiVersion)
			return
		}
		d.res.Warnings = append(d.res.Warnings, prefix+": not stored: pods here have no API to call, so service accounts and their permissions have no effect")
		return
	}
	dec, ok := decoders[kind]
	if !ok {
		d.problem(objectName(label, kind, ns != "", ns, name), "kind %q is not supported (supported: %s)", kind, supportedKinds())
		return
	}
	k := kinds.MustLookup(kind)
	prefix := objectName(label, kind, k.Namespaced, ns, name)
	if apiVersion != k.APIVersion {
		if apiVersion == "" {
			d.problem(prefix, "apiVersion: required (want %s)", k.APIVersion)
		} else {
			d.problem(prefix, "apiVersion: %q is not supported for kind %s (want %s)", apiVersion, kind, k.APIVersion)
		}
		return
	}
	r := &report{}
	obj := decodeObject(r, k, dec, m)
	for _, w := range r.warns {
		d.res.Warnings = append(d.res.Warnings, prefix+": "+w)
	}
	if len(r.errs) > 0 {
		for _, e := range r.errs {
			d.problem(prefix, "%s", e)
		}
		return
	}
	kindName, objNS, objName := Ref(obj)
	key := kindName + "/" + objNS + "/" + objName
	if d.seen[key] {
		d.problem(prefix, "defined more than once in the manifest")
		return
	}
	d.seen[key] = true
	d.res.Objects = append(d.res.Objects, obj)
}

// objectName names an object in messages: "StatefulSet default/web",
// "PersistentVolume pv-1", or "document 2 (StatefulSet)" without a name.
func objectName(label, kind string, namespaced bool, ns, name string) string {
	switch {
	case name == "":
		return label + " (" + kind + ")"
	case namespaced:
		return kind + " " + identity.NamespaceOr(ns) + "/" + name
	}
	return kind + " " + name
}

// decodeObject decodes m strictly into the kind's Kubernetes type, checks
// the fields set against the rules, converts and normalizes it; problems
// and warnings go to r.
func decodeObject(r *report, k *kinds.Kind, dec decoder, m map[string]any) *ordov1.Object {
	target := dec.target()
	t := reflect.TypeOf(target).Elem()
	s := &shape{r: r, probes: map[string]json.Number{}, quantities: map[string]string{}}
	v, _ := s.check("", m, t)
	js, err := json.Marshal(v)
	if err != nil {
		r.errorf("", "%v", err)
		return nil
	}
	strict, err := sigsjson.UnmarshalStrict(js, target)
	if err != nil {
		r.errorf("", "%v", err)
		return nil
	}
	for _, e := range strict {
		path := e.Error()
		if fe, ok := e.(sigsjson.FieldError); ok {
			path = fe.FieldPath()
		}
		if strings.HasPrefix(e.Error(), "duplicate field") {
			r.badf(path, "duplicate field")
			continue
		}
		r.badf(path, "%s", unknownField(t, path))
	}
	checkFields(r, "", reflect.ValueOf(target).Elem(), fieldRules[t])
	c := &conv{r: r, probes: s.probes, quantities: s.quantities}
	obj := k.Object(dec.convert(c, target))
	normalize(obj, r)
	return obj
}

// unknownField says that the last element of path is not a field, and
// which one was perhaps meant.
func unknownField(root reflect.Type, path string) string {
	parent, name := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	msg := fmt.Sprintf("unknown field %q", name)
	if t := typeAt(root, parent); t != nil {
		if s := suggest(name, t); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	return msg
}

// typeAt is the struct type at a path ("spec.template.spec.containers[0]")
// inside root, or nil.
func typeAt(t reflect.Type, path string) reflect.Type {
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, ".")
		name, _, _ := strings.Cut(seg, "[")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		ft, ok := jsonFields(t)[name]
		if !ok {
			return nil
		}
		t = ft
		for n := strings.Count(seg, "["); n > 0; n-- {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Map {
				return nil
			}
			t = t.Elem()
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// suggest returns the accepted field of t closest to an unknown one, if
// one is close.
func suggest(k string, t reflect.Type) string {
	best, bestD := "", 3
	for _, f := range structFields(t) {
		if _, ok := fieldRules[f.owner][f.name]; !ok {
			if _, ok := fieldRules[t][f.name]; !ok {
				continue
			}
		}
		if strings.EqualFold(f.name, k) {
			return f.name
		}
		if d := distance(strings.ToLower(f.name), strings.ToLower(k)); d < bestD || (d == bestD && f.name < best) {
			best, bestD = f.name, d
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
