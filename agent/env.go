package agent

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// This file builds a container's environment the way the kubelet does:
// envFrom, then env in order, with values from the pod's fields, the
// container's resources, ConfigMaps and Secrets, and $(VAR) references in
// values, command and args expanded. Nothing here touches the node.

// expand replaces the $(VAR) references in s using mapping, with the
// semantics of Kubernetes' third_party/forked/golang/expansion: "$$" is a
// literal "$", a reference mapping does not know stays as written, and a
// "$" not followed by "(" or "$" is kept with what follows.
func expand(s string, mapping func(string) (string, bool)) string {
	var b strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(s); cursor++ {
		if s[cursor] != '$' || cursor+1 >= len(s) {
			continue
		}
		b.WriteString(s[checkpoint:cursor])
		read, isVar, advance := readVariableName(s[cursor+1:])
		if isVar {
			if v, ok := mapping(read); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + read + ")")
			}
		} else {
			b.WriteString(read)
		}
		cursor += advance
		checkpoint = cursor + 1
	}
	return b.String() + s[checkpoint:]
}

// readVariableName reads what follows a "$": the name of a complete
// reference (isVar), or the text to copy. advance is how many bytes of s
// were consumed.
func readVariableName(s string) (read string, isVar bool, advance int) {
	switch s[0] {
	case '$': // escaped operator
		return "$", false, 1
	case '(':
		if i := strings.IndexByte(s[1:], ')'); i >= 0 {
			return s[1 : i+1], true, i + 2
		}
		return "$(", false, 1 // incomplete reference: kept
	default:
		return "$" + s[:1], false, 1
	}
}

// mappingFor looks a name up in each map in turn.
func mappingFor(maps ...map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, m := range maps {
			if v, ok := m[name]; ok {
				return v, true
			}
		}
		return "", false
	}
}

var envVarNameRe = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// validEnvVarName is Kubernetes' rule for the names envFrom may define.
func validEnvVarName(n string) bool { return envVarNameRe.MatchString(n) }

// nodeResources is what a container's unset limits default to in the
// downward API (the kubelet uses the node's allocatable resources).
type nodeResources struct {
	CPUMillis             int64
	MemoryBytes           int64
	EphemeralStorageBytes int64
}

// podInfo is what the downward API reads about a pod on this node.
type podInfo struct {
	pod      *ordov1.Pod
	nodeName string
	podIPs   []string // known once the pod network is set up
	hostIPs  []string
	node     nodeResources
}

// splitSubscript splits "metadata.labels['k']" into "metadata.labels", "k".
func splitSubscript(path string) (base, sub string, ok bool) {
	if !strings.HasSuffix(path, "']") {
		return path, "", false
	}
	base, sub, ok = strings.Cut(strings.TrimSuffix(path, "']"), "['")
	if !ok || base == "" {
		return path, "", false
	}
	return base, sub, true
}

// formatMap prints labels or annotations as the downward API does: one
// key="value" line per entry (Go quoting), sorted by key.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(lines, "\n")
}

// fieldValue is the value of a pod field selector (env fieldRef and
// downwardAPI volume items).
func (p podInfo) fieldValue(path string) (string, error) {
	md := p.pod.GetMetadata()
	if base, sub, ok := splitSubscript(path); ok {
		switch base {
		case "metadata.labels":
			return md.GetLabels()[sub], nil
		case "metadata.annotations":
			return md.GetAnnotations()[sub], nil
		}
		return "", fmt.Errorf("unsupported fieldPath: %s", path)
	}
	switch path {
	case "metadata.name":
		return md.GetName(), nil
	case "metadata.namespace":
		return identity.NamespaceOr(md.GetNamespace()), nil
	case "metadata.uid":
		return md.GetUid(), nil
	case "metadata.labels":
		return formatMap(md.GetLabels()), nil
	case "metadata.annotations":
		return formatMap(md.GetAnnotations()), nil
	case "spec.nodeName":
		if n := p.pod.GetNodeName(); n != "" {
			return n, nil
		}
		return p.nodeName, nil
	case "spec.serviceAccountName":
		if sa := p.pod.GetSpec().GetServiceAccountName(); sa != "" {
			return sa, nil
		}
		return "default", nil // what admission sets in Kubernetes
	case "status.podIP":
		return first(p.podIPs), nil
	case "status.podIPs":
		return strings.Join(p.podIPs, ","), nil
	case "status.hostIP":
		return first(p.hostIPs), nil
	case "status.hostIPs":
		return strings.Join(p.hostIPs, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %s", path)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// container finds a container of the pod (init containers included).
func (p podInfo) container(name string) *ordov1.Container {
	for _, c := range p.pod.GetSpec().GetContainers() {
		if c.GetName() == name {
			return c
		}
	}
	for _, c := range p.pod.GetSpec().GetInitContainers() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

// resourceValue is the value of a resource field selector for container c
// (the selector's container_name, when set, names another container): as
// the kubelet does, unset cpu, memory and ephemeral-storage limits are the
// node's, an unset request is its limit when one is given, and the value
// is divided by the divisor (default 1) and rounded up.
func (p podInfo) resourceValue(sel *ordov1.ResourceFieldSelector, c *ordov1.Container) (string, error) {
	if n := sel.GetContainerName(); n != "" {
		if c = p.container(n); c == nil {
			return "", fmt.Errorf("container %s not found", n)
		}
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef %s: no container named", sel.GetResource())
	}
	kind, name, ok := strings.Cut(sel.GetResource(), ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported container resource: %s", sel.GetResource())
	}
	div := big.NewRat(1, 1)
	if d := sel.GetDivisor(); d != "" {
		q, err := parseQuantity(d)
		if err != nil {
			return "", fmt.Errorf("resourceFieldRef %s: divisor: %w", sel.GetResource(), err)
		}
		div = q
	}
	var unit int64 // value and divisor are rounded up to it first: millis for cpu
	switch {
	case name == "cpu":
		unit = 1000
	case name == "memory" || name == "ephemeral-storage" || strings.HasPrefix(name, "hugepages-"):
		unit = 1
	default:
		return "", fmt.Errorf("unsupported container resource: %s", sel.GetResource())
	}
	v, err := containerResource(c.GetResources(), kind, name)
	if err != nil {
		return "", err
	}
	if kind == "limits" && v.Sign() == 0 {
		switch name {
		case "cpu":
			v = big.NewRat(p.node.CPUMillis, 1000)
		case "memory":
			v = big.NewRat(p.node.MemoryBytes, 1)
		case "ephemeral-storage":
			v = big.NewRat(p.node.EphemeralStorageBytes, 1)
		}
	}
	num, den := ceilTimes(v, unit), ceilTimes(div, unit)
	if den.Sign() <= 0 {
		return "", fmt.Errorf("resourceFieldRef %s: divisor %q must be positive", sel.GetResource(), sel.GetDivisor())
	}
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.String(), nil
}

// containerResource is a container's request or limit of a resource (zero
// when unset). An unset request is the limit, as Kubernetes defaults it.
func containerResource(r *ordov1.ResourceRequirements, kind, name string) (*big.Rat, error) {
	limit := func() (*big.Rat, error) {
		switch name {
		case "cpu":
			if m := r.GetCpuLimitMillis(); m > 0 {
				return big.NewRat(m, 1000), nil
			}
		case "memory":
			if b := r.GetMemoryLimitBytes(); b > 0 {
				return big.NewRat(b, 1), nil
			}
		}
		return rawQuantity(r.GetLimits(), "limits", name)
	}
	if kind == "limits" {
		return limit()
	}
	switch name {
	case "cpu":
		if m := r.GetCpuRequestMillis(); m > 0 {
			return big.NewRat(m, 1000), nil
		}
	case "memory":
		if b := r.GetMemoryRequestBytes(); b > 0 {
			return big.NewRat(b, 1), nil
		}
	}
	if _, ok := r.GetRequests()[name]; ok {
		return rawQuantity(r.GetRequests(), "requests", name)
	}
	return limit()
}

func rawQuantity(m map[string]string, kind, name string) (*big.Rat, error) {
	s, ok := m[name]
	if !ok {
		return new(big.Rat), nil
	}
	q, err := parseQuantity(s)
	if err != nil {
		return nil, fmt.Errorf("resources.%s.%s: %w", kind, name, err)
	}
	return q, nil
}

// ceilTimes is ⌈v·unit⌉.
func ceilTimes(v *big.Rat, unit int64) *big.Int {
	x := new(big.Rat).Mul(v, big.NewRat(unit, 1))
	q, r := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

var quantityRe = regexp.MustCompile(`^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$`)

var quantitySuffixes = map[string]*big.Rat{
	"":   big.NewRat(1, 1),
	"n":  big.NewRat(1, 1e9),
	"u":  big.NewRat(1, 1e6),
	"m":  big.NewRat(1, 1e3),
	"k":  big.NewRat(1e3, 1),
	"M":  big.NewRat(1e6, 1),
	"G":  big.NewRat(1e9, 1),
	"T":  big.NewRat(1e12, 1),
	"P":  big.NewRat(1e15, 1),
	"E":  big.NewRat(1e18, 1),
	"Ki": big.NewRat(1<<10, 1),
	"Mi": big.NewRat(1<<20, 1),
	"Gi": big.NewRat(1<<30, 1),
	"Ti": big.NewRat(1<<40, 1),
	"Pi": big.NewRat(1<<50, 1),
	"Ei": big.NewRat(1<<60, 1),
}

// parseQuantity reads a Kubernetes quantity ("500m", "1Gi", "2", "1e3").
func parseQuantity(s string) (*big.Rat, error) {
	m := quantityRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, errdefs.Invalid("", "%q is not a quantity", s)
	}
	v, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return nil, errdefs.Invalid("", "%q is not a quantity", s)
	}
	if m[3] != "" {
		e, err := strconv.Atoi(m[3])
		if err != nil || e > 30 || e < -30 {
			return nil, errdefs.Invalid("", "%q: exponent out of range", s)
		}
		p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(e))), nil))
		if e < 0 {
			p.Inv(p)
		}
		return v.Mul(v, p), nil
	}
	return v.Mul(v, quantitySuffixes[m[2]]), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// configSource finds the ConfigMaps and Secrets of a pod's namespace; nil
// when there is none of that name.
type configSource interface {
	configMap(name string) *ordov1.ConfigMap
	secret(name string) *ordov1.Secret
}

// containerEnv is a container's environment and command line, resolved.
type containerEnv struct {
	Env      []string // NAME=value, in the order names were first defined
	Command  []string
	Args     []string
	Warnings []string // worth an event: envFrom keys skipped
}

// resolveEnv builds container c's environment: envFrom sources in order
// (prefix added; keys that are not variable names skipped with a
// warning), then env in order, each value with $(VAR) references to the
// variables defined before it expanded; later definitions of a name win.
// Command and args are expanded with the result. A missing ConfigMap,
// Secret or key is an error unless optional (then the variable, or the
// whole envFrom source, is left out).
func resolveEnv(c *ordov1.Container, info podInfo, src configSource) (containerEnv, error) {
	ns := identity.NamespaceOr(info.pod.GetMetadata().GetNamespace())
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	var out containerEnv
	for _, ef := range c.GetEnvFrom() {
		var (
			kind, name string
			data       map[string]string
		)
		switch {
		case ef.GetConfigMap() != "":
			kind, name = "configMap", ef.GetConfigMap()
			cm := src.configMap(name)
			if cm == nil {
				if ef.GetOptional() {
					continue
				}
				return containerEnv{}, errdefs.NotFound("configmap", name)
			}
			data = cm.GetData()
		case ef.GetSecret() != "":
			kind, name = "secret", ef.GetSecret()
			s := src.secret(name)
			if s == nil {
				if ef.GetOptional() {
					continue
				}
				return containerEnv{}, errdefs.NotFound("secret", name)
			}
			data = make(map[string]string, len(s.GetData()))
			for k, v := range s.GetData() {
				data[k] = string(v)
			}
		default:
			continue
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var invalid []string
		for _, k := range keys {
			n := ef.GetPrefix() + k
			if !validEnvVarName(n) {
				invalid = append(invalid, n)
				continue
			}
			set(n, data[k])
		}
		if len(invalid) > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf(
				"Keys [%s] from the EnvFrom %s %s/%s were skipped since they are considered invalid environment variable names.",
				strings.Join(invalid, ", "), kind, ns, name))
		}
	}
	for _, e := range c.GetEnv() {
		v := e.GetValue()
		vf := e.GetValueFrom()
		switch {
		case v != "":
			v = expand(v, mappingFor(vars))
		case vf.GetFieldRef() != nil:
			var err error
			if v, err = info.fieldValue(vf.GetFieldRef().GetFieldPath()); err != nil {
				return containerEnv{}, fmt.Errorf("env %s: %w", e.GetName(), err)
			}
		case vf.GetResourceFieldRef() != nil:
			var err error
			if v, err = info.resourceValue(vf.GetResourceFieldRef(), c); err != nil {
				return containerEnv{}, fmt.Errorf("env %s: %w", e.GetName(), err)
			}
		case vf.GetConfigMapKeyRef() != nil:
			ref := vf.GetConfigMapKeyRef()
			cm := src.configMap(ref.GetName())
			if cm == nil {
				if ref.GetOptional() {
					continue
				}
				return containerEnv{}, errdefs.NotFound("configmap", ref.GetName())
			}
			val, ok := cm.GetData()[ref.GetKey()]
			if !ok {
				if ref.GetOptional() {
					continue
				}
				return containerEnv{}, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s: %w", ref.GetKey(), ns, ref.GetName(), errdefs.ErrNotFound)
			}
			v = val
		case vf.GetSecretKeyRef() != nil:
			ref := vf.GetSecretKeyRef()
			s := src.secret(ref.GetName())
			if s == nil {
				if ref.GetOptional() {
					continue
				}
				return containerEnv{}, errdefs.NotFound("secret", ref.GetName())
			}
			val, ok := s.GetData()[ref.GetKey()]
			if !ok {
				if ref.GetOptional() {
					continue
				}
				return containerEnv{}, fmt.Errorf("couldn't find key %s in Secret %s/%s: %w", ref.GetKey(), ns, ref.GetName(), errdefs.ErrNotFound)
			}
			v = string(val)
		}
		set(e.GetName(), v)
	}
	out.Env = make([]string, 0, len(order))
	for _, k := range order {
		out.Env = append(out.Env, k+"="+vars[k])
	}
	m := mappingFor(vars)
	for _, s := range c.GetCommand() {
		out.Command = append(out.Command, expand(s, m))
	}
	for _, s := range c.GetArgs() {
		out.Args = append(out.Args, expand(s, m))
	}
	return out, nil
}
