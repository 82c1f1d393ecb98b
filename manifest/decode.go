// Package manifest turns Kubernetes YAML or JSON (apps/v1 StatefulSet, v1
// Service) into ordo's API objects, applies the defaults and validates them.
//
// Decoding is strict: every field is checked against the Kubernetes field names
// ordo understands, and a field ordo does not implement is rejected by its full
// path ("spec.volumeClaimTemplates: field not supported") instead of being
// silently dropped. Only server-written fields without behavioural meaning
// (metadata.creationTimestamp, metadata.resourceVersion, metadata.uid,
// metadata.generation, metadata.managedFields, metadata.selfLink, status) are
// accepted and dropped, so that `kubectl get -o yaml` output applies as well.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"sigs.k8s.io/yaml"
)

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// Decode parses one or more YAML documents (separated by "---") or a JSON
// object (a "List" of items is accepted too) into objects, with defaults applied
// and validated by Normalize. Errors name the document or object and the field
// path, and wrap errdefs.ErrInvalid.
func Decode(data []byte) ([]*ordov1.Object, error) {
	var out []*ordov1.Object
	seen := map[string]bool{}
	n := 0
	for _, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			n++
			return nil, errdefs.Invalid(fmt.Sprintf("document %d", n), "invalid YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
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
			return nil, errdefs.Invalid(label, "invalid document: %v", err)
		}
		objs, err := decodeValue(label, v)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			kind, ns, name := Ref(o)
			key := kind + "/" + ns + "/" + name
			if seen[key] {
				return nil, errdefs.Invalid(fmt.Sprintf("%s %q", kind, name), "defined more than once in the manifest")
			}
			seen[key] = true
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, errdefs.Invalid("", "manifest contains no objects")
	}
	return out, nil
}

func decodeValue(label string, v any) ([]*ordov1.Object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errdefs.Invalid(label, "must be an object, got %s", jsonType(v))
	}
	kind, ok := m["kind"].(string)
	if !ok && m["kind"] != nil {
		return nil, errdefs.Invalid(label, "kind: must be a string, got %s", jsonType(m["kind"]))
	}
	if kind == "" {
		return nil, errdefs.Invalid(label, "kind: required")
	}
	apiVersion, _ := m["apiVersion"].(string)
	if kind == "List" {
		items, ok := m["items"].([]any)
		if !ok {
			return nil, errdefs.Invalid(label, "items: must be a list")
		}
		var out []*ordov1.Object
		for i, it := range items {
			objs, err := decodeValue(fmt.Sprintf("%s items[%d]", label, i), it)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
		return out, nil
	}
	dec, ok := decoders[kind]
	if !ok {
		return nil, errdefs.Invalid(label, "kind %q is not supported (supported: %s)", kind, supportedKinds())
	}
	k := kinds.MustLookup(kind)
	want, target := k.APIVersion, dec.target()
	// Prefix errors with the object's name when it has one.
	prefix := label + " (" + kind + ")"
	if md, ok := m["metadata"].(map[string]any); ok {
		if name, ok := md["name"].(string); ok && name != "" {
			prefix = fmt.Sprintf("%s %q", kind, name)
		}
	}
	wrap := func(err error) error { return fmt.Errorf("%s: %w", prefix, err) }
	if apiVersion != want {
		if apiVersion == "" {
			return nil, wrap(errdefs.Invalid("apiVersion", "required (want %s)", want))
		}
		return nil, wrap(errdefs.Invalid("apiVersion", "%q is not supported for kind %s (want %s)", apiVersion, kind, want))
	}
	if err := check(m, reflect.TypeOf(target)); err != nil {
		return nil, wrap(err)
	}
	js, err := json.Marshal(normalizeNumbers(m))
	if err != nil {
		return nil, wrap(errdefs.Invalid("", "%v", err))
	}
	if err := json.Unmarshal(js, target); err != nil {
		return nil, wrap(errdefs.Invalid("", "%v", err))
	}
	msg, err := dec.convert(target)
	if err != nil {
		return nil, wrap(err)
	}
	obj := k.Object(msg)
	if err := Normalize(obj); err != nil {
		return nil, wrap(err)
	}
	return []*ordov1.Object{obj}, nil
}

// ---------------------------------------------------------------- conversion

func convertMeta(m objectMeta) *ordov1.ObjectMeta {
	return &ordov1.ObjectMeta{
		Name:        m.Name,
		Namespace:   m.Namespace,
		Labels:      m.Labels,
		Annotations: m.Annotations,
	}
}

func convertSelector(s *labelSelector) *ordov1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &ordov1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, &ordov1.LabelSelectorRequirement{
			Key: e.Key, Operator: e.Operator, Values: e.Values,
		})
	}
	return out
}

func convertStatefulSet(in *statefulSet) (*ordov1.StatefulSet, error) {
	spec := &in.Spec
	out := &ordov1.StatefulSet{
		Metadata: convertMeta(in.Metadata),
		Spec: &ordov1.StatefulSetSpec{
			Replicas:            1, // absent means 1; an explicit 0 stays 0
			Selector:            convertSelector(spec.Selector),
			ServiceName:         spec.ServiceName,
			PodManagementPolicy: spec.PodManagementPolicy,
			MinReadySeconds:     spec.MinReadySeconds,
		},
	}
	if spec.Replicas != nil {
		out.Spec.Replicas = *spec.Replicas
	}
	if spec.Ordinals != nil {
		out.Spec.OrdinalsStart = spec.Ordinals.Start
	}
	if l := spec.RevisionHistoryLimit; l != nil {
		if *l == 0 {
			return nil, errdefs.Invalid("spec.revisionHistoryLimit", "must be >= 1 (a history of 0 revisions is not supported)")
		}
		out.Spec.RevisionHistoryLimit = *l
	}
	if us := spec.UpdateStrategy; us != nil {
		out.Spec.UpdateStrategy = &ordov1.UpdateStrategy{Type: us.Type}
		if ru := us.RollingUpdate; ru != nil {
			r := &ordov1.RollingUpdate{Partition: ru.Partition}
			if mu := ru.MaxUnavailable; mu != nil && mu.set {
				const p = "spec.updateStrategy.rollingUpdate.maxUnavailable"
				if mu.isStr {
					return nil, errdefs.Invalid(p, "%q: percentages are not supported, give a number of pods", mu.s)
				}
				if mu.i < 1 {
					return nil, errdefs.Invalid(p, "must be >= 1")
				}
				r.MaxUnavailable = int32(mu.i)
			}
			out.Spec.UpdateStrategy.RollingUpdate = r
		}
	}
	tmpl, err := convertTemplate("spec.template", &spec.Template)
	if err != nil {
		return nil, err
	}
	out.Spec.Template = tmpl
	if err := convertStorageFields(spec, out.Spec); err != nil {
		return nil, err
	}
	return out, nil
}

func convertTemplate(path string, in *podTemplateSpec) (*ordov1.PodTemplate, error) {
	ps := &in.Spec
	spath := path + ".spec"
	out := &ordov1.PodTemplate{
		Metadata: &ordov1.ObjectMeta{Labels: in.Metadata.Labels, Annotations: in.Metadata.Annotations},
		Spec: &ordov1.PodSpec{
			RestartPolicy:     ps.RestartPolicy,
			NodeSelector:      ps.NodeSelector,
			HostNetwork:       ps.HostNetwork,
			SetHostnameAsFqdn: ps.SetHostnameAsFQDN,
		},
	}
	if g := ps.TerminationGracePeriodSeconds; g != nil {
		if *g == 0 {
			return nil, errdefs.Invalid(spath+".terminationGracePeriodSeconds", "must be >= 1 (0 is not supported)")
		}
		out.Spec.TerminationGracePeriodSeconds = *g
	}
	if a := ps.Affinity; a != nil {
		aff := &ordov1.Affinity{}
		if na := a.NodeAffinity; na != nil && na.Required != nil {
			p := spath + ".affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
			if len(na.Required.NodeSelectorTerms) == 0 {
				return nil, errdefs.Invalid(p, "must have at least one term")
			}
			for _, t := range na.Required.NodeSelectorTerms {
				term := &ordov1.NodeSelectorTerm{}
				for _, e := range t.MatchExpressions {
					term.MatchExpressions = append(term.MatchExpressions, &ordov1.NodeSelectorRequirement{
						Key: e.Key, Operator: e.Operator, Values: e.Values,
					})
				}
				aff.NodeAffinityRequired = append(aff.NodeAffinityRequired, term)
			}
		}
		if pa := a.PodAntiAffinity; pa != nil {
			for _, t := range pa.Required {
				aff.PodAntiAffinityRequired = append(aff.PodAntiAffinityRequired, &ordov1.PodAffinityTerm{
					LabelSelector: convertSelector(t.LabelSelector),
					TopologyKey:   t.TopologyKey,
				})
			}
		}
		if len(aff.NodeAffinityRequired) > 0 || len(aff.PodAntiAffinityRequired) > 0 {
			out.Spec.Affinity = aff
		}
	}
	convertVolumes(ps, out.Spec)
	for i := range ps.Containers {
		c, err := convertContainer(fmt.Sprintf("%s.containers[%d]", spath, i), &ps.Containers[i])
		if err != nil {
			return nil, err
		}
		out.Spec.Containers = append(out.Spec.Containers, c)
	}
	return out, nil
}

func convertContainer(path string, in *container) (*ordov1.Container, error) {
	out := &ordov1.Container{
		Name:            in.Name,
		Image:           in.Image,
		Command:         in.Command,
		Args:            in.Args,
		WorkingDir:      in.WorkingDir,
		ImagePullPolicy: in.ImagePullPolicy,
	}
	for _, e := range in.Env {
		out.Env = append(out.Env, &ordov1.EnvVar{Name: e.Name, Value: e.Value})
	}
	convertMounts(in, out)
	for _, p := range in.Ports {
		out.Ports = append(out.Ports, &ordov1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	var err error
	if out.ReadinessProbe, err = convertProbe(path+".readinessProbe", in.ReadinessProbe, in.Ports); err != nil {
		return nil, err
	}
	if out.LivenessProbe, err = convertProbe(path+".livenessProbe", in.LivenessProbe, in.Ports); err != nil {
		return nil, err
	}
	if out.StartupProbe, err = convertProbe(path+".startupProbe", in.StartupProbe, in.Ports); err != nil {
		return nil, err
	}
	return out, nil
}

// resolvePort turns a port given by number or by the name of one of the
// container's ports into its number.
func resolvePort(path string, p intOrString, ports []containerPort) (int32, error) {
	if !p.set {
		return 0, errdefs.Invalid(path, "required")
	}
	if !p.isStr {
		if p.i < 1 || p.i > 65535 {
			return 0, errdefs.Invalid(path, "must be between 1 and 65535, got %d", p.i)
		}
		return int32(p.i), nil
	}
	for _, cp := range ports {
		if cp.Name != "" && cp.Name == p.s {
			return cp.ContainerPort, nil
		}
	}
	return 0, errdefs.Invalid(path, "no container port named %q", p.s)
}

func seconds(path string, v *float64, positive bool) (int64, error) {
	if v == nil {
		return 0, nil
	}
	if positive && *v <= 0 {
		return 0, errdefs.Invalid(path, "must be > 0")
	}
	if *v < 0 {
		return 0, errdefs.Invalid(path, "must be >= 0")
	}
	if *v > 1e9 {
		return 0, errdefs.Invalid(path, "too large")
	}
	ms := int64(*v*1000 + 0.5)
	if positive && ms < 1 {
		return 0, errdefs.Invalid(path, "must be at least 0.001 (1 ms)")
	}
	return ms, nil
}

func convertProbe(path string, in *probe, ports []containerPort) (*ordov1.Probe, error) {
	if in == nil {
		return nil, nil
	}
	out := &ordov1.Probe{}
	if in.Exec != nil {
		out.Exec = &ordov1.ExecAction{Command: in.Exec.Command}
	}
	if h := in.HTTPGet; h != nil {
		port, err := resolvePort(path+".httpGet.port", h.Port, ports)
		if err != nil {
			return nil, err
		}
		out.HttpGet = &ordov1.HTTPGetAction{Path: h.Path, Port: port, Host: h.Host, Scheme: h.Scheme}
		for _, hd := range h.HTTPHeaders {
			out.HttpGet.HttpHeaders = append(out.HttpGet.HttpHeaders, &ordov1.EnvVar{Name: hd.Name, Value: hd.Value})
		}
	}
	if t := in.TCPSocket; t != nil {
		port, err := resolvePort(path+".tcpSocket.port", t.Port, ports)
		if err != nil {
			return nil, err
		}
		out.TcpSocket = &ordov1.TCPSocketAction{Port: port, Host: t.Host}
	}
	if g := in.GRPC; g != nil {
		out.Grpc = &ordov1.GRPCAction{Port: g.Port}
		if g.Service != nil {
			out.Grpc.Service = *g.Service
		}
	}
	var err error
	if out.InitialDelayMs, err = seconds(path+".initialDelaySeconds", in.InitialDelaySeconds, false); err != nil {
		return nil, err
	}
	if out.PeriodMs, err = seconds(path+".periodSeconds", in.PeriodSeconds, true); err != nil {
		return nil, err
	}
	if out.TimeoutMs, err = seconds(path+".timeoutSeconds", in.TimeoutSeconds, true); err != nil {
		return nil, err
	}
	if t := in.SuccessThreshold; t != nil {
		if *t < 1 {
			return nil, errdefs.Invalid(path+".successThreshold", "must be >= 1")
		}
		out.SuccessThreshold = *t
	}
	if t := in.FailureThreshold; t != nil {
		if *t < 1 {
			return nil, errdefs.Invalid(path+".failureThreshold", "must be >= 1")
		}
		out.FailureThreshold = *t
	}
	return out, nil
}

func convertService(in *service) (*ordov1.Service, error) {
	switch in.Spec.Type {
	case "", "ClusterIP":
	default:
		return nil, errdefs.Invalid("spec.type", "%q is not supported (supported: ClusterIP)", in.Spec.Type)
	}
	out := &ordov1.Service{
		Metadata: convertMeta(in.Metadata),
		Spec: &ordov1.ServiceSpec{
			ClusterIp:                in.Spec.ClusterIP,
			Selector:                 in.Spec.Selector,
			PublishNotReadyAddresses: in.Spec.PublishNotReadyAddresses,
		},
	}
	for i, p := range in.Spec.Ports {
		sp := &ordov1.ServicePort{Name: p.Name, Port: p.Port, Protocol: p.Protocol}
		if tp := p.TargetPort; tp.set {
			path := fmt.Sprintf("spec.ports[%d].targetPort", i)
			if tp.isStr {
				if n, err := strconv.Atoi(tp.s); err == nil {
					tp = intOrString{set: true, i: int64(n)}
				} else {
					return nil, errdefs.Invalid(path, "%q: named target ports are not supported, give the port number", tp.s)
				}
			}
			if tp.i < 1 || tp.i > 65535 {
				return nil, errdefs.Invalid(path, "must be between 1 and 65535, got %d", tp.i)
			}
			sp.TargetPort = int32(tp.i)
		}
		out.Spec.Ports = append(out.Spec.Ports, sp)
	}
	return out, nil
}
