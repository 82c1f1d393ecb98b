package manifest

import (
	"fmt"
	lsel "github.com/ordoproject/ordo/internal/labels"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Defaults applied by Normalize.
const (
	DefaultReplicas                      = 1 // only when spec.replicas is absent from a manifest
	DefaultPodManagementPolicy           = "OrderedReady"
	DefaultUpdateStrategy                = "RollingUpdate"
	DefaultMaxUnavailable                = 1
	DefaultRevisionHistoryLimit          = 10
	DefaultRestartPolicy                 = "Always"
	DefaultTerminationGracePeriodSeconds = 30
	DefaultProbePeriodMs                 = 10000
	DefaultProbeTimeoutMs                = 1000
	DefaultProbeSuccessThreshold         = 1
	DefaultProbeFailureThreshold         = 3
	// DefaultImagePullPolicy is IfNotPresent for every image, ":latest" included:
	// ordo nodes use images imported into containerd, usually with no registry.
	DefaultImagePullPolicy = "IfNotPresent"
	DefaultProtocol        = "TCP"
)

// Normalize applies defaults to obj in place and validates it. It is what Decode
// runs on every decoded object, and what the scheduler runs on objects that
// arrive typed. Errors name the field ("spec.replicas: must be >= 0") and wrap
// errdefs.ErrInvalid. Normalize is idempotent.
//
// Proto fields have no presence, so for typed objects a zero means "default"
// where Kubernetes has a default (probe times and thresholds, maxUnavailable,
// revisionHistoryLimit, terminationGracePeriodSeconds); spec.replicas 0 stays 0.
func Normalize(obj *ordov1.Object) error {
	switch k := obj.GetKind().(type) {
	case *ordov1.Object_StatefulSet:
		if k.StatefulSet == nil {
			return errdefs.Invalid("", "empty StatefulSet")
		}
		return normalizeStatefulSet(k.StatefulSet)
	case *ordov1.Object_Service:
		if k.Service == nil {
			return errdefs.Invalid("", "empty Service")
		}
		return normalizeService(k.Service)
	case *ordov1.Object_PersistentVolume:
		if k.PersistentVolume == nil {
			return errdefs.Invalid("", "empty PersistentVolume")
		}
		return normalizePV(k.PersistentVolume)
	case *ordov1.Object_PersistentVolumeClaim:
		if k.PersistentVolumeClaim == nil {
			return errdefs.Invalid("", "empty PersistentVolumeClaim")
		}
		return normalizePVC(k.PersistentVolumeClaim)
	case *ordov1.Object_StorageClass:
		if k.StorageClass == nil {
			return errdefs.Invalid("", "empty StorageClass")
		}
		return normalizeSC(k.StorageClass)
	}
	return errdefs.Invalid("kind", "object has no kind (supported: %s)", supportedKinds())
}

func normalizeMeta(md **ordov1.ObjectMeta) error {
	if *md == nil {
		*md = &ordov1.ObjectMeta{}
	}
	m := *md
	if m.Name == "" {
		return errdefs.Invalid("metadata.name", "required")
	}
	if msg := dns1123Label(m.Name); msg != "" {
		return errdefs.Invalid("metadata.name", "%q: %s", m.Name, msg)
	}
	if m.Namespace == "" {
		m.Namespace = identity.DefaultNamespace
	}
	if msg := dns1123Label(m.Namespace); msg != "" {
		return errdefs.Invalid("metadata.namespace", "%q: %s", m.Namespace, msg)
	}
	if err := validateLabels("metadata.labels", m.Labels); err != nil {
		return err
	}
	return validateAnnotations("metadata.annotations", m.Annotations)
}

func normalizeStatefulSet(s *ordov1.StatefulSet) error {
	if err := normalizeMeta(&s.Metadata); err != nil {
		return err
	}
	if s.Spec == nil {
		return errdefs.Invalid("spec", "required")
	}
	spec := s.Spec
	if spec.Replicas < 0 {
		return errdefs.Invalid("spec.replicas", "must be >= 0")
	}
	if spec.OrdinalsStart < 0 {
		return errdefs.Invalid("spec.ordinals.start", "must be >= 0")
	}
	// Pod names <set>-<ordinal> are hostnames: they must stay DNS labels.
	last := int64(spec.OrdinalsStart) + int64(max(spec.Replicas, 1)) - 1
	if podName := s.Metadata.Name + "-" + strconv.FormatInt(last, 10); len(podName) > 63 {
		return errdefs.Invalid("metadata.name", "%q is too long: pod name %q would exceed 63 characters", s.Metadata.Name, podName)
	}
	if spec.MinReadySeconds < 0 {
		return errdefs.Invalid("spec.minReadySeconds", "must be >= 0")
	}
	if spec.RevisionHistoryLimit < 0 {
		return errdefs.Invalid("spec.revisionHistoryLimit", "must be >= 1")
	}
	if spec.RevisionHistoryLimit == 0 {
		spec.RevisionHistoryLimit = DefaultRevisionHistoryLimit
	}
	if spec.ServiceName != "" {
		if msg := dns1123Label(spec.ServiceName); msg != "" {
			return errdefs.Invalid("spec.serviceName", "%q: %s", spec.ServiceName, msg)
		}
	}
	switch spec.PodManagementPolicy {
	case "":
		spec.PodManagementPolicy = DefaultPodManagementPolicy
	case "OrderedReady", "Parallel":
	default:
		return errdefs.Invalid("spec.podManagementPolicy", "%q is not supported (supported: OrderedReady, Parallel)", spec.PodManagementPolicy)
	}
	if err := normalizeUpdateStrategy(spec); err != nil {
		return err
	}

	// Selector and template.
	if spec.Selector == nil || (len(spec.Selector.MatchLabels) == 0 && len(spec.Selector.MatchExpressions) == 0) {
		return errdefs.Invalid("spec.selector", "required")
	}
	if err := validateSelector("spec.selector", spec.Selector); err != nil {
		return err
	}
	if spec.Template == nil {
		return errdefs.Invalid("spec.template", "required")
	}
	if spec.Template.Metadata == nil {
		spec.Template.Metadata = &ordov1.ObjectMeta{}
	}
	tm := spec.Template.Metadata
	if err := validateLabels("spec.template.metadata.labels", tm.Labels); err != nil {
		return err
	}
	if err := validateAnnotations("spec.template.metadata.annotations", tm.Annotations); err != nil {
		return err
	}
	if !lsel.SelectorMatches(spec.Selector, tm.Labels) {
		return errdefs.Invalid("spec.selector", "does not match spec.template.metadata.labels")
	}
	if spec.Template.Spec == nil {
		spec.Template.Spec = &ordov1.PodSpec{}
	}
	if err := normalizePodSpec("spec.template.spec", spec.Template.Spec); err != nil {
		return err
	}
	return normalizeSetStorage(spec)
}

func normalizeUpdateStrategy(spec *ordov1.StatefulSetSpec) error {
	if spec.UpdateStrategy == nil {
		spec.UpdateStrategy = &ordov1.UpdateStrategy{}
	}
	us := spec.UpdateStrategy
	switch us.Type {
	case "":
		us.Type = DefaultUpdateStrategy
	case "RollingUpdate", "OnDelete":
	default:
		return errdefs.Invalid("spec.updateStrategy.type", "%q is not supported (supported: RollingUpdate, OnDelete)", us.Type)
	}
	if us.Type == "OnDelete" {
		if us.RollingUpdate != nil {
			return errdefs.Invalid("spec.updateStrategy.rollingUpdate", "may only be set when type is RollingUpdate")
		}
		return nil
	}
	if us.RollingUpdate == nil {
		us.RollingUpdate = &ordov1.RollingUpdate{}
	}
	ru := us.RollingUpdate
	if ru.Partition < 0 {
		return errdefs.Invalid("spec.updateStrategy.rollingUpdate.partition", "must be >= 0")
	}
	if ru.MaxUnavailable < 0 {
		return errdefs.Invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", "must be >= 1")
	}
	if ru.MaxUnavailable == 0 {
		ru.MaxUnavailable = DefaultMaxUnavailable
	}
	return nil
}

func normalizePodSpec(path string, ps *ordov1.PodSpec) error {
	switch ps.RestartPolicy {
	case "":
		ps.RestartPolicy = DefaultRestartPolicy
	case "Always":
	default:
		return errdefs.Invalid(path+".restartPolicy", "%q is not supported (a StatefulSet's pods must use Always)", ps.RestartPolicy)
	}
	if ps.TerminationGracePeriodSeconds < 0 {
		return errdefs.Invalid(path+".terminationGracePeriodSeconds", "must be >= 0")
	}
	if ps.TerminationGracePeriodSeconds == 0 {
		ps.TerminationGracePeriodSeconds = DefaultTerminationGracePeriodSeconds
	}
	if err := validateLabels(path+".nodeSelector", ps.NodeSelector); err != nil {
		return err
	}
	if a := ps.Affinity; a != nil {
		ap := path + ".affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
		for i, t := range a.NodeAffinityRequired {
			tp := fmt.Sprintf("%s[%d].matchExpressions", ap, i)
			if t == nil || len(t.MatchExpressions) == 0 {
				return errdefs.Invalid(tp, "must have at least one expression")
			}
			for j, e := range t.MatchExpressions {
				if e == nil {
					return errdefs.Invalid(fmt.Sprintf("%s[%d]", tp, j), "required")
				}
				if err := validateRequirement(fmt.Sprintf("%s[%d]", tp, j), e.Key, e.Operator, e.Values); err != nil {
					return err
				}
			}
		}
		pp := path + ".affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
		for i, t := range a.PodAntiAffinityRequired {
			tp := fmt.Sprintf("%s[%d]", pp, i)
			if t == nil || t.TopologyKey == "" {
				return errdefs.Invalid(tp+".topologyKey", "required")
			}
			if msg := labelKey(t.TopologyKey); msg != "" {
				return errdefs.Invalid(tp+".topologyKey", "%q: %s", t.TopologyKey, msg)
			}
			if t.LabelSelector != nil {
				if err := validateSelector(tp+".labelSelector", t.LabelSelector); err != nil {
					return err
				}
			}
		}
	}
	if err := normalizeVolumes(path, ps); err != nil {
		return err
	}
	if len(ps.Containers) == 0 {
		return errdefs.Invalid(path+".containers", "must have at least one container")
	}
	names := map[string]bool{}
	for i, c := range ps.Containers {
		cp := fmt.Sprintf("%s.containers[%d]", path, i)
		if c == nil {
			return errdefs.Invalid(cp, "required")
		}
		if c.Name == "" {
			return errdefs.Invalid(cp+".name", "required")
		}
		if msg := dns1123Label(c.Name); msg != "" {
			return errdefs.Invalid(cp+".name", "%q: %s", c.Name, msg)
		}
		if names[c.Name] {
			return errdefs.Invalid(cp+".name", "duplicate container name %q", c.Name)
		}
		names[c.Name] = true
		if err := normalizeContainer(cp, c); err != nil {
			return err
		}
	}
	return nil
}

var envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

func normalizeContainer(path string, c *ordov1.Container) error {
	if strings.TrimSpace(c.Image) == "" {
		return errdefs.Invalid(path+".image", "required")
	}
	if strings.ContainsAny(c.Image, " \t\n") {
		return errdefs.Invalid(path+".image", "%q: must not contain whitespace", c.Image)
	}
	switch c.ImagePullPolicy {
	case "":
		c.ImagePullPolicy = DefaultImagePullPolicy
	case "Always", "IfNotPresent", "Never":
	default:
		return errdefs.Invalid(path+".imagePullPolicy", "%q is not supported (supported: Always, IfNotPresent, Never)", c.ImagePullPolicy)
	}
	for i, e := range c.Env {
		if e == nil || !envName.MatchString(e.Name) {
			name := ""
			if e != nil {
				name = e.Name
			}
			return errdefs.Invalid(fmt.Sprintf("%s.env[%d].name", path, i), "%q is not a valid environment variable name", name)
		}
	}
	portNames := map[string]bool{}
	for i, p := range c.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", path, i)
		if p == nil {
			return errdefs.Invalid(pp, "required")
		}
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return errdefs.Invalid(pp+".containerPort", "must be between 1 and 65535, got %d", p.ContainerPort)
		}
		switch p.Protocol {
		case "":
			p.Protocol = DefaultProtocol
		case "TCP", "UDP":
		default:
			return errdefs.Invalid(pp+".protocol", "%q is not supported (supported: TCP, UDP)", p.Protocol)
		}
		if p.Name != "" {
			if msg := portName(p.Name); msg != "" {
				return errdefs.Invalid(pp+".name", "%q: %s", p.Name, msg)
			}
			if portNames[p.Name] {
				return errdefs.Invalid(pp+".name", "duplicate port name %q", p.Name)
			}
			portNames[p.Name] = true
		}
	}
	if err := normalizeMounts(path, c); err != nil {
		return err
	}
	if err := normalizeProbe(path+".readinessProbe", c.ReadinessProbe, false); err != nil {
		return err
	}
	if err := normalizeProbe(path+".livenessProbe", c.LivenessProbe, true); err != nil {
		return err
	}
	return normalizeProbe(path+".startupProbe", c.StartupProbe, true)
}

func normalizeProbe(path string, p *ordov1.Probe, successMustBeOne bool) error {
	if p == nil {
		return nil
	}
	handlers := 0
	if p.Exec != nil {
		handlers++
		if len(p.Exec.Command) == 0 {
			return errdefs.Invalid(path+".exec.command", "required")
		}
	}
	if h := p.HttpGet; h != nil {
		handlers++
		if h.Port < 1 || h.Port > 65535 {
			return errdefs.Invalid(path+".httpGet.port", "must be between 1 and 65535, got %d", h.Port)
		}
		if h.Path == "" {
			h.Path = "/"
		}
		if !strings.HasPrefix(h.Path, "/") {
			return errdefs.Invalid(path+".httpGet.path", "%q: must start with /", h.Path)
		}
		switch h.Scheme {
		case "":
			h.Scheme = "HTTP"
		case "HTTP", "HTTPS":
		default:
			return errdefs.Invalid(path+".httpGet.scheme", "%q is not supported (supported: HTTP, HTTPS)", h.Scheme)
		}
		for i, hd := range h.HttpHeaders {
			if hd == nil || hd.Name == "" {
				return errdefs.Invalid(fmt.Sprintf("%s.httpGet.httpHeaders[%d].name", path, i), "required")
			}
		}
	}
	if t := p.TcpSocket; t != nil {
		handlers++
		if t.Port < 1 || t.Port > 65535 {
			return errdefs.Invalid(path+".tcpSocket.port", "must be between 1 and 65535, got %d", t.Port)
		}
	}
	if g := p.Grpc; g != nil {
		handlers++
		if g.Port < 1 || g.Port > 65535 {
			return errdefs.Invalid(path+".grpc.port", "must be between 1 and 65535, got %d", g.Port)
		}
	}
	if handlers != 1 {
		return errdefs.Invalid(path, "must have exactly one handler (exec, httpGet, tcpSocket or grpc), got %d", handlers)
	}
	if p.InitialDelayMs < 0 {
		return errdefs.Invalid(path+".initialDelaySeconds", "must be >= 0")
	}
	if p.PeriodMs < 0 {
		return errdefs.Invalid(path+".periodSeconds", "must be > 0")
	}
	if p.PeriodMs == 0 {
		p.PeriodMs = DefaultProbePeriodMs
	}
	if p.TimeoutMs < 0 {
		return errdefs.Invalid(path+".timeoutSeconds", "must be > 0")
	}
	if p.TimeoutMs == 0 {
		p.TimeoutMs = DefaultProbeTimeoutMs
	}
	if p.SuccessThreshold < 0 {
		return errdefs.Invalid(path+".successThreshold", "must be >= 1")
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = DefaultProbeSuccessThreshold
	}
	if successMustBeOne && p.SuccessThreshold != 1 {
		return errdefs.Invalid(path+".successThreshold", "must be 1 for liveness and startup probes")
	}
	if p.FailureThreshold < 0 {
		return errdefs.Invalid(path+".failureThreshold", "must be >= 1")
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = DefaultProbeFailureThreshold
	}
	return nil
}

func normalizeService(s *ordov1.Service) error {
	if err := normalizeMeta(&s.Metadata); err != nil {
		return err
	}
	if s.Spec == nil {
		s.Spec = &ordov1.ServiceSpec{}
	}
	spec := s.Spec
	headless := spec.ClusterIp == "None"
	if !headless && spec.ClusterIp != "" && net.ParseIP(spec.ClusterIp) == nil {
		return errdefs.Invalid("spec.clusterIP", "%q: must be None or an IP address", spec.ClusterIp)
	}
	if err := validateLabels("spec.selector", spec.Selector); err != nil {
		return err
	}
	if !headless && len(spec.Ports) == 0 {
		return errdefs.Invalid("spec.ports", "required unless clusterIP is None")
	}
	names := map[string]bool{}
	for i, p := range spec.Ports {
		pp := fmt.Sprintf("spec.ports[%d]", i)
		if p == nil {
			return errdefs.Invalid(pp, "required")
		}
		if p.Port < 1 || p.Port > 65535 {
			return errdefs.Invalid(pp+".port", "must be between 1 and 65535, got %d", p.Port)
		}
		if p.TargetPort < 0 || p.TargetPort > 65535 {
			return errdefs.Invalid(pp+".targetPort", "must be between 1 and 65535, got %d", p.TargetPort)
		}
		if p.TargetPort == 0 {
			p.TargetPort = p.Port
		}
		switch p.Protocol {
		case "":
			p.Protocol = DefaultProtocol
		case "TCP", "UDP":
		default:
			return errdefs.Invalid(pp+".protocol", "%q is not supported (supported: TCP, UDP)", p.Protocol)
		}
		if p.Name == "" && len(spec.Ports) > 1 {
			return errdefs.Invalid(pp+".name", "required when the service has more than one port")
		}
		if p.Name != "" {
			if msg := dns1123Label(p.Name); msg != "" {
				return errdefs.Invalid(pp+".name", "%q: %s", p.Name, msg)
			}
			if names[p.Name] {
				return errdefs.Invalid(pp+".name", "duplicate port name %q", p.Name)
			}
			names[p.Name] = true
		}
	}
	return nil
}

// ---------------------------------------------------------------- selectors

func validateSelector(path string, s *ordov1.LabelSelector) error {
	if err := validateLabels(path+".matchLabels", s.MatchLabels); err != nil {
		return err
	}
	for i, e := range s.MatchExpressions {
		ep := fmt.Sprintf("%s.matchExpressions[%d]", path, i)
		if e == nil {
			return errdefs.Invalid(ep, "required")
		}
		if err := validateRequirement(ep, e.Key, e.Operator, e.Values); err != nil {
			return err
		}
	}
	return nil
}

func validateRequirement(path, key, op string, values []string) error {
	if key == "" {
		return errdefs.Invalid(path+".key", "required")
	}
	if msg := labelKey(key); msg != "" {
		return errdefs.Invalid(path+".key", "%q: %s", key, msg)
	}
	switch op {
	case "In", "NotIn":
		if len(values) == 0 {
			return errdefs.Invalid(path+".values", "must be non-empty for operator %s", op)
		}
	case "Exists", "DoesNotExist":
		if len(values) != 0 {
			return errdefs.Invalid(path+".values", "must be empty for operator %s", op)
		}
	case "":
		return errdefs.Invalid(path+".operator", "required")
	default:
		return errdefs.Invalid(path+".operator", "%q is not supported (supported: In, NotIn, Exists, DoesNotExist)", op)
	}
	for i, v := range values {
		if msg := labelValue(v); msg != "" {
			return errdefs.Invalid(fmt.Sprintf("%s.values[%d]", path, i), "%q: %s", v, msg)
		}
	}
	return nil
}

// ---------------------------------------------------------------- names

var (
	dnsLabelRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomainRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	qualifiedRe    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	portNameRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	hasLetterRe    = regexp.MustCompile(`[a-z]`)
)

// dns1123Label returns why s is not a DNS-1123 label, or "".
func dns1123Label(s string) string {
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	if !dnsLabelRe.MatchString(s) {
		return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit"
	}
	return ""
}

func portName(s string) string {
	if len(s) > 15 {
		return "must be no more than 15 characters"
	}
	if !portNameRe.MatchString(s) || strings.Contains(s, "--") || !hasLetterRe.MatchString(s) {
		return "must contain only lower-case letters, digits and '-' (not at either end, not doubled) and at least one letter"
	}
	return ""
}

// labelKey returns why s is not a valid label key ([prefix/]name), or "".
func labelKey(s string) string {
	name := s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		prefix := s[:i]
		name = s[i+1:]
		if prefix == "" || len(prefix) > 253 || !dnsSubdomainRe.MatchString(prefix) {
			return "prefix must be a DNS subdomain (lower-case, at most 253 characters)"
		}
	}
	if name == "" {
		return "name part must not be empty"
	}
	if len(name) > 63 {
		return "name part must be no more than 63 characters"
	}
	if !qualifiedRe.MatchString(name) {
		return "name part must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
	}
	return ""
}

// labelValue returns why s is not a valid label value, or "".
func labelValue(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	if !qualifiedRe.MatchString(s) {
		return "must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
	}
	return ""
}

func validateLabels(path string, labels map[string]string) error {
	for _, k := range sortedStringKeys(labels) {
		if msg := labelKey(k); msg != "" {
			return errdefs.Invalid(path, "invalid key %q: %s", k, msg)
		}
		if msg := labelValue(labels[k]); msg != "" {
			return errdefs.Invalid(path+"["+k+"]", "invalid value %q: %s", labels[k], msg)
		}
	}
	return nil
}

func validateAnnotations(path string, ann map[string]string) error {
	for _, k := range sortedStringKeys(ann) {
		if msg := labelKey(k); msg != "" {
			return errdefs.Invalid(path, "invalid key %q: %s", k, msg)
		}
	}
	return nil
}

func sortedStringKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
