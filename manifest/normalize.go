package manifest

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ordoproject/ordo/internal/identity"
	lsel "github.com/ordoproject/ordo/internal/labels"
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
	DefaultImagePullPolicy    = "IfNotPresent"
	DefaultProtocol           = "TCP"
	DefaultTolerationOperator = "Equal"
)

// Normalize applies defaults to obj in place and validates it. It is what Decode
// runs on every decoded object, and what the scheduler runs on objects that
// arrive typed. The error names every problem by its field ("spec.replicas:
// must be >= 0"), one per line, and wraps errdefs.ErrInvalid. Normalize is
// idempotent.
//
// Proto fields have no presence, so for typed objects a zero means "default"
// where Kubernetes has a default (probe times and thresholds, maxUnavailable,
// revisionHistoryLimit, terminationGracePeriodSeconds); spec.replicas 0 stays 0.
func Normalize(obj *ordov1.Object) error {
	r := &report{}
	normalize(obj, r)
	return r.err()
}

func normalize(obj *ordov1.Object, r *report) {
	switch k := obj.GetKind().(type) {
	case *ordov1.Object_StatefulSet:
		if k.StatefulSet == nil {
			k.StatefulSet = &ordov1.StatefulSet{}
		}
		normalizeStatefulSet(k.StatefulSet, r)
	case *ordov1.Object_Service:
		if k.Service == nil {
			k.Service = &ordov1.Service{}
		}
		normalizeService(k.Service, r)
	case *ordov1.Object_PersistentVolume:
		if k.PersistentVolume == nil {
			k.PersistentVolume = &ordov1.PersistentVolume{}
		}
		normalizePV(k.PersistentVolume, r)
	case *ordov1.Object_PersistentVolumeClaim:
		if k.PersistentVolumeClaim == nil {
			k.PersistentVolumeClaim = &ordov1.PersistentVolumeClaim{}
		}
		normalizePVC(k.PersistentVolumeClaim, r)
	case *ordov1.Object_StorageClass:
		if k.StorageClass == nil {
			k.StorageClass = &ordov1.StorageClass{}
		}
		normalizeSC(k.StorageClass, r)
	case *ordov1.Object_ConfigMap:
		if k.ConfigMap == nil {
			k.ConfigMap = &ordov1.ConfigMap{}
		}
		normalizeConfigMap(k.ConfigMap, r)
	case *ordov1.Object_Secret:
		if k.Secret == nil {
			k.Secret = &ordov1.Secret{}
		}
		normalizeSecret(k.Secret, r)
	case *ordov1.Object_PodDisruptionBudget:
		if k.PodDisruptionBudget == nil {
			k.PodDisruptionBudget = &ordov1.PodDisruptionBudget{}
		}
		normalizePDB(k.PodDisruptionBudget, r)
	default:
		r.errorf("kind", "object has no kind (supported: %s)", supportedKinds())
	}
}

func normalizeMeta(md **ordov1.ObjectMeta, r *report) {
	if *md == nil {
		*md = &ordov1.ObjectMeta{}
	}
	m := *md
	if m.Name == "" {
		r.errorf("metadata.name", "required")
	} else if msg := dns1123Label(m.Name); msg != "" {
		r.errorf("metadata.name", "%q: %s", m.Name, msg)
	}
	if m.Namespace == "" {
		m.Namespace = identity.DefaultNamespace
	}
	if msg := dns1123Label(m.Namespace); msg != "" {
		r.errorf("metadata.namespace", "%q: %s", m.Namespace, msg)
	}
	validateLabels("metadata.labels", m.Labels, r)
	validateAnnotations("metadata.annotations", m.Annotations, r)
}

func normalizeStatefulSet(s *ordov1.StatefulSet, r *report) {
	normalizeMeta(&s.Metadata, r)
	if s.Spec == nil {
		r.errorf("spec", "required")
		return
	}
	spec := s.Spec
	if spec.Replicas < 0 {
		r.errorf("spec.replicas", "must be >= 0")
	}
	if spec.OrdinalsStart < 0 {
		r.errorf("spec.ordinals.start", "must be >= 0")
	}
	// Pod names <set>-<ordinal> are hostnames: they must stay DNS labels.
	last := int64(spec.OrdinalsStart) + int64(max(spec.Replicas, 1)) - 1
	if podName := s.Metadata.Name + "-" + strconv.FormatInt(last, 10); len(podName) > 63 && dns1123Label(s.Metadata.Name) == "" {
		r.errorf("metadata.name", "%q is too long: pod name %q would exceed 63 characters", s.Metadata.Name, podName)
	}
	if spec.MinReadySeconds < 0 {
		r.errorf("spec.minReadySeconds", "must be >= 0")
	}
	if spec.RevisionHistoryLimit < 0 {
		r.errorf("spec.revisionHistoryLimit", "must be >= 1")
	}
	if spec.RevisionHistoryLimit == 0 {
		spec.RevisionHistoryLimit = DefaultRevisionHistoryLimit
	}
	if spec.ServiceName != "" {
		if msg := dns1123Label(spec.ServiceName); msg != "" {
			r.errorf("spec.serviceName", "%q: %s", spec.ServiceName, msg)
		}
	}
	switch spec.PodManagementPolicy {
	case "":
		spec.PodManagementPolicy = DefaultPodManagementPolicy
	case "OrderedReady", "Parallel":
	default:
		r.errorf("spec.podManagementPolicy", "%q is not supported (supported: OrderedReady, Parallel)", spec.PodManagementPolicy)
	}
	normalizeUpdateStrategy(spec, r)

	// Selector and template.
	selectorOK := false
	if spec.Selector == nil || (len(spec.Selector.MatchLabels) == 0 && len(spec.Selector.MatchExpressions) == 0) {
		r.errorf("spec.selector", "required")
	} else {
		selectorOK = validateSelector("spec.selector", spec.Selector, r)
	}
	if spec.Template == nil {
		r.errorf("spec.template", "required")
		return
	}
	if spec.Template.Metadata == nil {
		spec.Template.Metadata = &ordov1.ObjectMeta{}
	}
	tm := spec.Template.Metadata
	labelsOK := validateLabels("spec.template.metadata.labels", tm.Labels, r)
	validateAnnotations("spec.template.metadata.annotations", tm.Annotations, r)
	if selectorOK && labelsOK && !lsel.SelectorMatches(spec.Selector, tm.Labels) {
		r.errorf("spec.selector", "does not match spec.template.metadata.labels")
	}
	if spec.Template.Spec == nil {
		spec.Template.Spec = &ordov1.PodSpec{}
	}
	normalizePodSpec("spec.template.spec", spec.Template.Spec, r)
	normalizeSetStorage(spec, r)
}

func normalizeUpdateStrategy(spec *ordov1.StatefulSetSpec, r *report) {
	if spec.UpdateStrategy == nil {
		spec.UpdateStrategy = &ordov1.UpdateStrategy{}
	}
	us := spec.UpdateStrategy
	switch us.Type {
	case "":
		us.Type = DefaultUpdateStrategy
	case "RollingUpdate", "OnDelete":
	default:
		r.errorf("spec.updateStrategy.type", "%q is not supported (supported: RollingUpdate, OnDelete)", us.Type)
		return
	}
	if us.Type == "OnDelete" {
		if us.RollingUpdate != nil {
			r.errorf("spec.updateStrategy.rollingUpdate", "may only be set when type is RollingUpdate")
		}
		return
	}
	if us.RollingUpdate == nil {
		us.RollingUpdate = &ordov1.RollingUpdate{}
	}
	ru := us.RollingUpdate
	if ru.Partition < 0 {
		r.errorf("spec.updateStrategy.rollingUpdate.partition", "must be >= 0")
	}
	if ru.MaxUnavailable < 0 {
		r.errorf("spec.updateStrategy.rollingUpdate.maxUnavailable", "must be >= 1")
	}
	if ru.MaxUnavailable == 0 {
		ru.MaxUnavailable = DefaultMaxUnavailable
	}
}

func normalizePodSpec(path string, ps *ordov1.PodSpec, r *report) {
	switch ps.RestartPolicy {
	case "":
		ps.RestartPolicy = DefaultRestartPolicy
	case "Always":
	default:
		r.errorf(path+".restartPolicy", "%q is not supported (a StatefulSet's pods must use Always)", ps.RestartPolicy)
	}
	if ps.TerminationGracePeriodSeconds == nil {
		ps.TerminationGracePeriodSeconds = proto.Int64(DefaultTerminationGracePeriodSeconds)
	}
	if ps.GetTerminationGracePeriodSeconds() < 0 {
		r.errorf(path+".terminationGracePeriodSeconds", "must be >= 0")
	}
	validateLabels(path+".nodeSelector", ps.NodeSelector, r)
	normalizeAffinity(path+".affinity", ps.Affinity, r)
	normalizePodSecurityContext(path+".securityContext", ps.SecurityContext, r)
	for i, t := range ps.Tolerations {
		normalizeToleration(index(path+".tolerations", i), t, r)
	}
	normalizeSpread(path+".topologySpreadConstraints", ps.TopologySpreadConstraints, r)

	// Containers: names are unique across init containers and containers.
	containers := map[string]bool{}
	for _, c := range append(append([]*ordov1.Container(nil), ps.InitContainers...), ps.Containers...) {
		if c != nil {
			containers[c.Name] = true
		}
	}
	normalizeVolumes(path, ps, containers, r)
	if len(ps.Containers) == 0 {
		r.errorf(path+".containers", "must have at least one container")
	}
	names := map[string]bool{}
	for _, list := range []struct {
		field      string
		containers []*ordov1.Container
	}{{"initContainers", ps.InitContainers}, {"containers", ps.Containers}} {
		for i, c := range list.containers {
			cp := index(path+"."+list.field, i)
			if c == nil {
				r.errorf(cp, "required")
				continue
			}
			switch {
			case c.Name == "":
				r.errorf(cp+".name", "required")
			case dns1123Label(c.Name) != "":
				r.errorf(cp+".name", "%q: %s", c.Name, dns1123Label(c.Name))
			case names[c.Name]:
				r.errorf(cp+".name", "duplicate container name %q", c.Name)
			}
			names[c.Name] = true
			normalizeContainer(cp, c, list.field == "initContainers", containers, r)
		}
	}
}

// Env names as Kubernetes accepted them before relaxing them to any
// printable character but '='.
var envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

func normalizeContainer(path string, c *ordov1.Container, init bool, containers map[string]bool, r *report) {
	if strings.TrimSpace(c.Image) == "" {
		r.errorf(path+".image", "required")
	} else if strings.ContainsAny(c.Image, " \t\n") {
		r.errorf(path+".image", "%q: must not contain whitespace", c.Image)
	}
	switch c.ImagePullPolicy {
	case "":
		c.ImagePullPolicy = DefaultImagePullPolicy
	case "Always", "IfNotPresent", "Never":
	default:
		r.errorf(path+".imagePullPolicy", "%q is not supported (supported: Always, IfNotPresent, Never)", c.ImagePullPolicy)
	}
	sidecar := false
	switch c.RestartPolicy {
	case "":
	case "Always":
		if !init {
			r.errorf(path+".restartPolicy", "may only be set for init containers (Always: a sidecar)")
		}
		sidecar = true
	default:
		r.errorf(path+".restartPolicy", "%q is not supported (supported: Always, for a sidecar)", c.RestartPolicy)
	}
	for i, e := range c.Env {
		ep := index(path+".env", i)
		if e == nil || !envName.MatchString(e.Name) {
			r.errorf(ep+".name", "%q is not a valid environment variable name", e.GetName())
		}
		if e.GetValueFrom() != nil {
			if e.Value != "" {
				r.errorf(ep+".valueFrom", "may not be set together with value")
			}
			normalizeEnvSource(ep+".valueFrom", c.Name, e.ValueFrom, containers, r)
		}
	}
	for i, e := range c.EnvFrom {
		ep := index(path+".envFrom", i)
		if e == nil {
			r.errorf(ep, "required")
			continue
		}
		if e.Prefix != "" && !envName.MatchString(e.Prefix) {
			r.errorf(ep+".prefix", "%q is not a valid environment variable name", e.Prefix)
		}
		switch {
		case (e.ConfigMap == "") == (e.Secret == ""):
			r.errorf(ep, "must name exactly one of configMapRef and secretRef")
		case e.ConfigMap != "" && dns1123Subdomain(e.ConfigMap) != "":
			r.errorf(ep+".configMapRef.name", "%q: %s", e.ConfigMap, dns1123Subdomain(e.ConfigMap))
		case e.Secret != "" && dns1123Subdomain(e.Secret) != "":
			r.errorf(ep+".secretRef.name", "%q: %s", e.Secret, dns1123Subdomain(e.Secret))
		}
	}
	portNames := map[string]bool{}
	for i, p := range c.Ports {
		pp := index(path+".ports", i)
		if p == nil {
			r.errorf(pp, "required")
			continue
		}
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			r.errorf(pp+".containerPort", "must be between 1 and 65535, got %d", p.ContainerPort)
		}
		if p.HostPort < 0 || p.HostPort > 65535 {
			r.errorf(pp+".hostPort", "must be between 1 and 65535, got %d", p.HostPort)
		}
		if p.HostIp != "" {
			if p.HostPort == 0 {
				r.errorf(pp+".hostIP", "may only be set with hostPort")
			}
			if net.ParseIP(p.HostIp) == nil {
				r.errorf(pp+".hostIP", "%q: must be an IP address", p.HostIp)
			}
		}
		switch p.Protocol {
		case "":
			p.Protocol = DefaultProtocol
		case "TCP", "UDP":
		default:
			r.errorf(pp+".protocol", "%q is not supported (supported: TCP, UDP)", p.Protocol)
		}
		if p.Name != "" {
			if msg := portName(p.Name); msg != "" {
				r.errorf(pp+".name", "%q: %s", p.Name, msg)
			}
			if portNames[p.Name] {
				r.errorf(pp+".name", "duplicate port name %q", p.Name)
			}
			portNames[p.Name] = true
		}
	}
	normalizeMounts(path, c, r)
	normalizeResources(path+".resources", c.Resources, r)
	normalizeSecurityContext(path+".securityContext", c.SecurityContext, r)
	if init && !sidecar {
		// An init container runs to completion: it is never ready or live.
		for _, f := range []struct {
			name string
			set  bool
		}{{"readinessProbe", c.ReadinessProbe != nil}, {"livenessProbe", c.LivenessProbe != nil},
			{"startupProbe", c.StartupProbe != nil}, {"lifecycle", c.Lifecycle != nil}} {
			if f.set {
				r.errorf(path+"."+f.name, "may not be set for an init container unless it is a sidecar (restartPolicy: Always)")
			}
		}
	}
	if l := c.Lifecycle; l != nil {
		normalizeHandler(path+".lifecycle.postStart", l.PostStart, r)
		normalizeHandler(path+".lifecycle.preStop", l.PreStop, r)
	}
	normalizeProbe(path+".readinessProbe", c.ReadinessProbe, false, r)
	normalizeProbe(path+".livenessProbe", c.LivenessProbe, true, r)
	normalizeProbe(path+".startupProbe", c.StartupProbe, true, r)
}

// Fields of a pod that environment variables and files may hold.
var (
	envFieldPaths = map[string]bool{
		"metadata.name": true, "metadata.namespace": true, "metadata.uid": true,
		"spec.nodeName": true, "spec.serviceAccountName": true,
		"status.podIP": true, "status.podIPs": true, "status.hostIP": true, "status.hostIPs": true,
	}
	volumeFieldPaths = map[string]bool{
		"metadata.name": true, "metadata.namespace": true, "metadata.uid": true,
		"metadata.labels": true, "metadata.annotations": true,
	}
	labelFieldPath     = regexp.MustCompile(`^metadata\.(labels|annotations)\['([^']+)'\]$`)
	resourceFieldPaths = []string{"limits.cpu", "limits.memory", "requests.cpu", "requests.memory",
		"limits.ephemeral-storage", "requests.ephemeral-storage"}
)

func validFieldPath(path, fp string, allowed map[string]bool, r *report) {
	switch {
	case fp == "":
		r.errorf(path, "required")
	case allowed[fp]:
	case labelFieldPath.MatchString(fp):
		key := labelFieldPath.FindStringSubmatch(fp)[2]
		if msg := labelKey(key); msg != "" {
			r.errorf(path, "%q: invalid key: %s", fp, msg)
		}
	default:
		var names []string
		for k := range allowed {
			names = append(names, k)
		}
		sort.Strings(names)
		r.errorf(path, "%q is not supported (supported: %s, metadata.labels['KEY'], metadata.annotations['KEY'])", fp, joinComma(names))
	}
}

func validResourceRef(path string, rf *ordov1.ResourceFieldSelector, containers map[string]bool, r *report) {
	ok := false
	for _, res := range resourceFieldPaths {
		ok = ok || rf.Resource == res
	}
	if rf.Resource == "" {
		r.errorf(path+".resource", "required")
	} else if !ok {
		r.errorf(path+".resource", "%q is not supported (supported: %s)", rf.Resource, joinComma(resourceFieldPaths))
	}
	if rf.ContainerName != "" && !containers[rf.ContainerName] {
		r.errorf(path+".containerName", "%q names no container of the pod", rf.ContainerName)
	}
	if rf.Divisor != "" {
		q, err := resource.ParseQuantity(rf.Divisor)
		if err != nil {
			r.errorf(path+".divisor", "%q is not a quantity", rf.Divisor)
		} else if q.Sign() <= 0 {
			r.errorf(path+".divisor", "must be greater than zero")
		}
	}
}

func normalizeEnvSource(path, container string, s *ordov1.EnvVarSource, containers map[string]bool, r *report) {
	n := 0
	if f := s.FieldRef; f != nil {
		n++
		validFieldPath(path+".fieldRef.fieldPath", f.FieldPath, envFieldPaths, r)
	}
	if rf := s.ResourceFieldRef; rf != nil {
		n++
		validResourceRef(path+".resourceFieldRef", rf, containers, r)
	}
	for _, ks := range []struct {
		name string
		sel  *ordov1.KeySelector
	}{{"configMapKeyRef", s.ConfigMapKeyRef}, {"secretKeyRef", s.SecretKeyRef}} {
		if ks.sel == nil {
			continue
		}
		n++
		kp := path + "." + ks.name
		if ks.sel.Name == "" {
			r.errorf(kp+".name", "required")
		} else if msg := dns1123Subdomain(ks.sel.Name); msg != "" {
			r.errorf(kp+".name", "%q: %s", ks.sel.Name, msg)
		}
		if ks.sel.Key == "" {
			r.errorf(kp+".key", "required")
		} else if msg := configKey(ks.sel.Key); msg != "" {
			r.errorf(kp+".key", "%q: %s", ks.sel.Key, msg)
		}
	}
	if n != 1 {
		r.errorf(path, "must have exactly one source (fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef), got %d", n)
	}
}

// normalizeResources parses requests and limits; a request that is not
// given is the limit, as in Kubernetes.
func normalizeResources(path string, rr *ordov1.ResourceRequirements, r *report) {
	if rr == nil {
		return
	}
	type parsed struct{ cpu, mem int64 }
	parse := func(section string, m map[string]string) (out parsed) {
		for _, k := range sortedStringKeys(m) {
			p := path + "." + section + "." + k
			switch k {
			case "cpu":
				q, err := resource.ParseQuantity(m[k])
				switch {
				case err != nil:
					r.errorf(p, "%q is not a quantity (examples: 500m, 2)", m[k])
				case q.Sign() < 0:
					r.errorf(p, "%q: must not be negative", m[k])
				case q.CmpInt64(math.MaxInt64/1000) > 0:
					r.errorf(p, "%q is too large", m[k])
				default:
					out.cpu = q.MilliValue()
				}
			case "memory":
				if b, ok := quantityBytes(p, m[k], r); ok {
					out.mem = b
				}
			case "ephemeral-storage":
				quantityBytes(p, m[k], r)
			default:
				r.errorf(p, "not supported (supported: cpu, memory)")
			}
		}
		return out
	}
	for _, k := range []string{"cpu", "memory"} {
		if v, ok := rr.Limits[k]; ok {
			if _, ok := rr.Requests[k]; !ok {
				if rr.Requests == nil {
					rr.Requests = map[string]string{}
				}
				rr.Requests[k] = v
			}
		}
	}
	lim := parse("limits", rr.Limits)
	req := parse("requests", rr.Requests)
	rr.CpuLimitMillis, rr.MemoryLimitBytes = lim.cpu, lim.mem
	rr.CpuRequestMillis, rr.MemoryRequestBytes = req.cpu, req.mem
	if lim.cpu > 0 && req.cpu > lim.cpu {
		r.errorf(path+".requests.cpu", "%s must be less than or equal to the cpu limit %s", rr.Requests["cpu"], rr.Limits["cpu"])
	}
	if lim.mem > 0 && req.mem > lim.mem {
		r.errorf(path+".requests.memory", "%s must be less than or equal to the memory limit %s", rr.Requests["memory"], rr.Limits["memory"])
	}
}

var (
	capabilityRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	sysctlRe     = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)
)

func validID(path string, id *int64, r *report) {
	if id != nil {
		if errs := validation.IsValidUserID(*id); len(errs) > 0 {
			r.errorf(path, "%d: %s", *id, strings.Join(errs, "; "))
		}
	}
}

func validSeccomp(path, p string, r *report) {
	switch p {
	case "", "RuntimeDefault", "Unconfined":
	default:
		r.errorf(path, "%q is not supported (supported: RuntimeDefault, Unconfined)", p)
	}
}

func normalizeSecurityContext(path string, sc *ordov1.SecurityContext, r *report) {
	if sc == nil {
		return
	}
	validID(path+".runAsUser", sc.RunAsUser, r)
	validID(path+".runAsGroup", sc.RunAsGroup, r)
	if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		r.errorf(path+".runAsUser", "must not be 0 when runAsNonRoot is true")
	}
	if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		r.errorf(path+".allowPrivilegeEscalation", "cannot be false when privileged is true")
	}
	if cp := sc.Capabilities; cp != nil {
		for _, l := range []struct {
			name string
			caps []string
		}{{"add", cp.Add}, {"drop", cp.Drop}} {
			for i, c := range l.caps {
				if !capabilityRe.MatchString(c) {
					r.errorf(index(path+".capabilities."+l.name, i), "%q is not a capability name (examples: NET_ADMIN, IPC_LOCK, ALL)", c)
				}
			}
		}
	}
	validSeccomp(path+".seccompProfile.type", sc.SeccompProfile, r)
}

func normalizePodSecurityContext(path string, sc *ordov1.PodSecurityContext, r *report) {
	if sc == nil {
		return
	}
	validID(path+".runAsUser", sc.RunAsUser, r)
	validID(path+".runAsGroup", sc.RunAsGroup, r)
	validID(path+".fsGroup", sc.FsGroup, r)
	if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		r.errorf(path+".runAsUser", "must not be 0 when runAsNonRoot is true")
	}
	for i := range sc.SupplementalGroups {
		validID(index(path+".supplementalGroups", i), &sc.SupplementalGroups[i], r)
	}
	validSeccomp(path+".seccompProfile.type", sc.SeccompProfile, r)
	seen := map[string]bool{}
	for i, s := range sc.Sysctls {
		sp := index(path+".sysctls", i)
		switch {
		case s.GetName() == "":
			r.errorf(sp+".name", "required")
		case len(s.Name) > 253 || !sysctlRe.MatchString(s.Name):
			r.errorf(sp+".name", "%q is not a sysctl name (example: net.core.somaxconn)", s.Name)
		case seen[s.Name]:
			r.errorf(sp+".name", "duplicate sysctl %q", s.Name)
		}
		seen[s.GetName()] = true
	}
}

func normalizeToleration(path string, t *ordov1.Toleration, r *report) {
	if t == nil {
		r.errorf(path, "required")
		return
	}
	if t.Key != "" {
		if msg := labelKey(t.Key); msg != "" {
			r.errorf(path+".key", "%q: %s", t.Key, msg)
		}
	}
	switch t.Operator {
	case "":
		t.Operator = DefaultTolerationOperator
		fallthrough
	case "Equal":
		if t.Key == "" {
			r.errorf(path+".operator", "must be Exists when key is empty")
		}
	case "Exists":
		if t.Value != "" {
			r.errorf(path+".value", "must be empty when operator is Exists")
		}
	default:
		r.errorf(path+".operator", "%q is not supported (supported: Equal, Exists)", t.Operator)
	}
	switch t.Effect {
	case "", "NoSchedule", "PreferNoSchedule", "NoExecute":
	default:
		r.errorf(path+".effect", "%q is not supported (supported: NoSchedule, PreferNoSchedule, NoExecute)", t.Effect)
	}
	if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
		r.errorf(path+".tolerationSeconds", "may only be set when effect is NoExecute")
	}
}

func normalizeSpread(path string, cs []*ordov1.TopologySpreadConstraint, r *report) {
	seen := map[string]bool{}
	for i, c := range cs {
		cp := index(path, i)
		if c == nil {
			r.errorf(cp, "required")
			continue
		}
		if c.MaxSkew < 1 {
			r.errorf(cp+".maxSkew", "must be >= 1")
		}
		if c.TopologyKey == "" {
			r.errorf(cp+".topologyKey", "required")
		} else if msg := labelKey(c.TopologyKey); msg != "" {
			r.errorf(cp+".topologyKey", "%q: %s", c.TopologyKey, msg)
		}
		switch c.WhenUnsatisfiable {
		case "":
			r.errorf(cp+".whenUnsatisfiable", "required (DoNotSchedule or ScheduleAnyway)")
		case "DoNotSchedule", "ScheduleAnyway":
		default:
			r.errorf(cp+".whenUnsatisfiable", "%q is not supported (supported: DoNotSchedule, ScheduleAnyway)", c.WhenUnsatisfiable)
		}
		if k := c.TopologyKey + "/" + c.WhenUnsatisfiable; seen[k] {
			r.errorf(cp, "duplicate constraint for topologyKey %q and whenUnsatisfiable %q", c.TopologyKey, c.WhenUnsatisfiable)
		} else {
			seen[k] = true
		}
		if c.LabelSelector != nil {
			validateSelector(cp+".labelSelector", c.LabelSelector, r)
		}
	}
}

func normalizeAffinity(path string, a *ordov1.Affinity, r *report) {
	if a == nil {
		return
	}
	na := path + ".nodeAffinity"
	for i, t := range a.NodeAffinityRequired {
		validateTerm(index(na+".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", i), t, r)
	}
	for i, t := range a.NodeAffinityPreferred {
		tp := index(na+".preferredDuringSchedulingIgnoredDuringExecution", i)
		if t == nil {
			r.errorf(tp, "required")
			continue
		}
		validWeight(tp+".weight", t.Weight, r)
		validateTerm(tp+".preference", t.Preference, r)
	}
	for _, g := range []struct {
		field     string
		required  []*ordov1.PodAffinityTerm
		preferred []*ordov1.WeightedPodAffinityTerm
	}{
		{"podAffinity", a.PodAffinityRequired, a.PodAffinityPreferred},
		{"podAntiAffinity", a.PodAntiAffinityRequired, a.PodAntiAffinityPreferred},
	} {
		gp := path + "." + g.field
		for i, t := range g.required {
			validatePodTerm(index(gp+".requiredDuringSchedulingIgnoredDuringExecution", i), t, r)
		}
		for i, t := range g.preferred {
			tp := index(gp+".preferredDuringSchedulingIgnoredDuringExecution", i)
			if t == nil {
				r.errorf(tp, "required")
				continue
			}
			validWeight(tp+".weight", t.Weight, r)
			if t.PodAffinityTerm == nil {
				r.errorf(tp+".podAffinityTerm", "required")
				continue
			}
			validatePodTerm(tp+".podAffinityTerm", t.PodAffinityTerm, r)
		}
	}
}

func validWeight(path string, w int32, r *report) {
	if w < 1 || w > 100 {
		r.errorf(path, "must be between 1 and 100, got %d", w)
	}
}

func validateTerm(path string, t *ordov1.NodeSelectorTerm, r *report) {
	tp := path + ".matchExpressions"
	if t == nil || len(t.MatchExpressions) == 0 {
		r.errorf(tp, "must have at least one expression")
		return
	}
	for j, e := range t.MatchExpressions {
		if e == nil {
			r.errorf(index(tp, j), "required")
			continue
		}
		validateRequirement(index(tp, j), e.Key, e.Operator, e.Values, r)
	}
}

func validatePodTerm(path string, t *ordov1.PodAffinityTerm, r *report) {
	if t == nil || t.TopologyKey == "" {
		r.errorf(path+".topologyKey", "required")
	} else if msg := labelKey(t.TopologyKey); msg != "" {
		r.errorf(path+".topologyKey", "%q: %s", t.TopologyKey, msg)
	}
	if t.GetLabelSelector() != nil {
		validateSelector(path+".labelSelector", t.LabelSelector, r)
	}
}

func normalizeHandler(path string, h *ordov1.LifecycleHandler, r *report) {
	if h == nil {
		return
	}
	n := 0
	if h.Exec != nil {
		n++
		if len(h.Exec.Command) == 0 {
			r.errorf(path+".exec.command", "required")
		}
	}
	if h.HttpGet != nil {
		n++
		normalizeHTTPGet(path+".httpGet", h.HttpGet, r)
	}
	if t := h.TcpSocket; t != nil {
		n++
		if t.Port < 1 || t.Port > 65535 {
			r.errorf(path+".tcpSocket.port", "must be between 1 and 65535, got %d", t.Port)
		}
	}
	if h.Sleep {
		n++
		if h.SleepSeconds < 0 {
			r.errorf(path+".sleep.seconds", "must be >= 0")
		}
	}
	if n != 1 {
		r.errorf(path, "must have exactly one handler (exec, httpGet, tcpSocket or sleep), got %d", n)
	}
}

func normalizeHTTPGet(path string, h *ordov1.HTTPGetAction, r *report) {
	if h.Port < 1 || h.Port > 65535 {
		r.errorf(path+".port", "must be between 1 and 65535, got %d", h.Port)
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if !strings.HasPrefix(h.Path, "/") {
		r.errorf(path+".path", "%q: must start with /", h.Path)
	}
	switch h.Scheme {
	case "":
		h.Scheme = "HTTP"
	case "HTTP", "HTTPS":
	default:
		r.errorf(path+".scheme", "%q is not supported (supported: HTTP, HTTPS)", h.Scheme)
	}
	for i, hd := range h.HttpHeaders {
		if hd == nil || hd.Name == "" {
			r.errorf(index(path+".httpHeaders", i)+".name", "required")
		}
	}
}

func normalizeProbe(path string, p *ordov1.Probe, successMustBeOne bool, r *report) {
	if p == nil {
		return
	}
	handlers := 0
	if p.Exec != nil {
		handlers++
		if len(p.Exec.Command) == 0 {
			r.errorf(path+".exec.command", "required")
		}
	}
	if h := p.HttpGet; h != nil {
		handlers++
		normalizeHTTPGet(path+".httpGet", h, r)
	}
	if t := p.TcpSocket; t != nil {
		handlers++
		if t.Port < 1 || t.Port > 65535 {
			r.errorf(path+".tcpSocket.port", "must be between 1 and 65535, got %d", t.Port)
		}
	}
	if g := p.Grpc; g != nil {
		handlers++
		if g.Port < 1 || g.Port > 65535 {
			r.errorf(path+".grpc.port", "must be between 1 and 65535, got %d", g.Port)
		}
	}
	if handlers != 1 {
		r.errorf(path, "must have exactly one handler (exec, httpGet, tcpSocket or grpc), got %d", handlers)
	}
	if p.InitialDelayMs < 0 {
		r.errorf(path+".initialDelaySeconds", "must be >= 0")
	}
	if p.PeriodMs < 0 {
		r.errorf(path+".periodSeconds", "must be > 0")
	}
	if p.PeriodMs == 0 {
		p.PeriodMs = DefaultProbePeriodMs
	}
	if p.TimeoutMs < 0 {
		r.errorf(path+".timeoutSeconds", "must be > 0")
	}
	if p.TimeoutMs == 0 {
		p.TimeoutMs = DefaultProbeTimeoutMs
	}
	if p.SuccessThreshold < 0 {
		r.errorf(path+".successThreshold", "must be >= 1")
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = DefaultProbeSuccessThreshold
	}
	if successMustBeOne && p.SuccessThreshold != 1 {
		r.errorf(path+".successThreshold", "must be 1 for liveness and startup probes")
	}
	if p.FailureThreshold < 0 {
		r.errorf(path+".failureThreshold", "must be >= 1")
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = DefaultProbeFailureThreshold
	}
}

func normalizeService(s *ordov1.Service, r *report) {
	normalizeMeta(&s.Metadata, r)
	if s.Spec == nil {
		s.Spec = &ordov1.ServiceSpec{}
	}
	spec := s.Spec
	headless := spec.ClusterIp == "None"
	if !headless && spec.ClusterIp != "" && net.ParseIP(spec.ClusterIp) == nil {
		r.errorf("spec.clusterIP", "%q: must be None or an IP address", spec.ClusterIp)
	}
	validateLabels("spec.selector", spec.Selector, r)
	if !headless && len(spec.Ports) == 0 {
		r.errorf("spec.ports", "required unless clusterIP is None")
	}
	names := map[string]bool{}
	for i, p := range spec.Ports {
		pp := index("spec.ports", i)
		if p == nil {
			r.errorf(pp, "required")
			continue
		}
		if p.Port < 1 || p.Port > 65535 {
			r.errorf(pp+".port", "must be between 1 and 65535, got %d", p.Port)
		}
		if p.TargetPort < 0 || p.TargetPort > 65535 {
			r.errorf(pp+".targetPort", "must be between 1 and 65535, got %d", p.TargetPort)
		}
		if p.TargetPort == 0 {
			p.TargetPort = p.Port
		}
		switch p.Protocol {
		case "":
			p.Protocol = DefaultProtocol
		case "TCP", "UDP":
		default:
			r.errorf(pp+".protocol", "%q is not supported (supported: TCP, UDP)", p.Protocol)
		}
		if p.Name == "" && len(spec.Ports) > 1 {
			r.errorf(pp+".name", "required when the service has more than one port")
		}
		if p.Name != "" {
			if msg := dns1123Label(p.Name); msg != "" {
				r.errorf(pp+".name", "%q: %s", p.Name, msg)
			}
			if names[p.Name] {
				r.errorf(pp+".name", "duplicate port name %q", p.Name)
			}
			names[p.Name] = true
		}
	}
}

// ---------------------------------------------------------------- selectors

// validateSelector reports the problems of a selector; it says whether it
// has none.
func validateSelector(path string, s *ordov1.LabelSelector, r *report) bool {
	n := len(r.errs)
	validateLabels(path+".matchLabels", s.MatchLabels, r)
	for i, e := range s.MatchExpressions {
		ep := index(path+".matchExpressions", i)
		if e == nil {
			r.errorf(ep, "required")
			continue
		}
		validateRequirement(ep, e.Key, e.Operator, e.Values, r)
	}
	if len(r.errs) > n {
		return false
	}
	// What apimachinery makes of it is what the scheduler matches with.
	ls := &metav1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: metav1.LabelSelectorOperator(e.Operator), Values: e.Values,
		})
	}
	if _, err := metav1.LabelSelectorAsSelector(ls); err != nil {
		r.errorf(path, "%v", err)
		return false
	}
	return true
}

func validateRequirement(path, key, op string, values []string, r *report) {
	if key == "" {
		r.errorf(path+".key", "required")
	} else if msg := labelKey(key); msg != "" {
		r.errorf(path+".key", "%q: %s", key, msg)
	}
	switch op {
	case "In", "NotIn":
		if len(values) == 0 {
			r.errorf(path+".values", "must be non-empty for operator %s", op)
		}
	case "Exists", "DoesNotExist":
		if len(values) != 0 {
			r.errorf(path+".values", "must be empty for operator %s", op)
		}
	case "":
		r.errorf(path+".operator", "required")
	default:
		r.errorf(path+".operator", "%q is not supported (supported: In, NotIn, Exists, DoesNotExist)", op)
	}
	for i, v := range values {
		if msg := labelValue(v); msg != "" {
			r.errorf(index(path+".values", i), "%q: %s", v, msg)
		}
	}
}

// ---------------------------------------------------------------- names

// dns1123Label returns why s is not a DNS-1123 label, or "".
func dns1123Label(s string) string {
	if len(validation.IsDNS1123Label(s)) == 0 {
		return ""
	}
	if len(s) > validation.DNS1123LabelMaxLength {
		return fmt.Sprintf("must be no more than %d characters", validation.DNS1123LabelMaxLength)
	}
	return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit"
}

// dns1123Subdomain returns why s is not a DNS-1123 subdomain, or "".
func dns1123Subdomain(s string) string {
	if len(validation.IsDNS1123Subdomain(s)) == 0 {
		return ""
	}
	if len(s) > validation.DNS1123SubdomainMaxLength {
		return fmt.Sprintf("must be no more than %d characters", validation.DNS1123SubdomainMaxLength)
	}
	return "must be a DNS subdomain: lower-case letters, digits, '-' and '.'"
}

func portName(s string) string {
	if errs := validation.IsValidPortName(s); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

// labelKey returns why s is not a valid label key ([prefix/]name), or "".
func labelKey(s string) string {
	if errs := content.IsLabelKey(s); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

// labelValue returns why s is not a valid label value, or "".
func labelValue(s string) string {
	if errs := content.IsLabelValue(s); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

// validateLabels reports invalid keys and values; it says whether there
// were none.
func validateLabels(path string, labels map[string]string, r *report) bool {
	ok := true
	for _, k := range sortedStringKeys(labels) {
		if msg := labelKey(k); msg != "" {
			r.errorf(path, "invalid key %q: %s", k, msg)
			ok = false
		}
		if msg := labelValue(labels[k]); msg != "" {
			r.errorf(path+"["+k+"]", "invalid value %q: %s", labels[k], msg)
			ok = false
		}
	}
	return ok
}

func validateAnnotations(path string, ann map[string]string, r *report) {
	for _, k := range sortedStringKeys(ann) {
		if msg := labelKey(k); msg != "" {
			r.errorf(path, "invalid key %q: %s", k, msg)
		}
	}
}
