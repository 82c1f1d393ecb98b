package manifest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// conv converts decoded Kubernetes objects to API messages. What cannot be
// said in a message (a port named in a probe that no container port has, a
// percentage where ordo takes a number) is reported here; the rest is
// Normalize's.
type conv struct {
	r *report
	// probes are the probe numbers as the manifest wrote them, by path.
	probes map[string]json.Number
	// quantities are the quantities as the manifest wrote them, by path.
	quantities map[string]string
}

func convertMeta(m *metav1.ObjectMeta) *ordov1.ObjectMeta {
	return &ordov1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
}

func convertSelector(s *metav1.LabelSelector) *ordov1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &ordov1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, &ordov1.LabelSelectorRequirement{
			Key: e.Key, Operator: string(e.Operator), Values: e.Values,
		})
	}
	return out
}

func convertTerm(t *corev1.NodeSelectorTerm) *ordov1.NodeSelectorTerm {
	term := &ordov1.NodeSelectorTerm{}
	for _, e := range t.MatchExpressions {
		term.MatchExpressions = append(term.MatchExpressions, &ordov1.NodeSelectorRequirement{
			Key: e.Key, Operator: string(e.Operator), Values: e.Values,
		})
	}
	return term
}

func convertPodTerm(t *corev1.PodAffinityTerm) *ordov1.PodAffinityTerm {
	return &ordov1.PodAffinityTerm{LabelSelector: convertSelector(t.LabelSelector), TopologyKey: t.TopologyKey}
}

func convertWeighted(ts []corev1.WeightedPodAffinityTerm) []*ordov1.WeightedPodAffinityTerm {
	var out []*ordov1.WeightedPodAffinityTerm
	for i := range ts {
		out = append(out, &ordov1.WeightedPodAffinityTerm{Weight: ts[i].Weight, PodAffinityTerm: convertPodTerm(&ts[i].PodAffinityTerm)})
	}
	return out
}

// quantity is the quantity at path as the manifest wrote it ("0.5",
// "1Gi"), or "" when unset.
func (c *conv) quantity(path string, q *resource.Quantity) string {
	if s, ok := c.quantities[path]; ok {
		return s
	}
	if q == nil || q.IsZero() && q.Format == "" {
		return ""
	}
	return q.String()
}

func ptr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ---------------------------------------------------------------- StatefulSet

func (c *conv) statefulSet(in *appsv1.StatefulSet) *ordov1.StatefulSet {
	spec := &in.Spec
	ns := identity.NamespaceOr(in.Namespace)
	out := &ordov1.StatefulSet{
		Metadata: convertMeta(&in.ObjectMeta),
		Spec: &ordov1.StatefulSetSpec{
			Replicas:            1, // absent means 1; an explicit 0 stays 0
			Selector:            convertSelector(spec.Selector),
			ServiceName:         spec.ServiceName,
			PodManagementPolicy: string(spec.PodManagementPolicy),
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
			c.r.badf("spec.revisionHistoryLimit", "must be >= 1 (a history of 0 revisions is not supported)")
		}
		out.Spec.RevisionHistoryLimit = *l
	}
	if us := spec.UpdateStrategy; us.Type != "" || us.RollingUpdate != nil {
		out.Spec.UpdateStrategy = &ordov1.UpdateStrategy{Type: string(us.Type)}
		if ru := us.RollingUpdate; ru != nil {
			r := &ordov1.RollingUpdate{Partition: val(ru.Partition)}
			if mu := ru.MaxUnavailable; mu != nil {
				const p = "spec.updateStrategy.rollingUpdate.maxUnavailable"
				switch {
				case mu.Type == intstr.String:
					c.r.badf(p, "%q: percentages are not supported, give a number of pods", mu.StrVal)
				case mu.IntVal < 1:
					c.r.badf(p, "must be >= 1")
				default:
					r.MaxUnavailable = mu.IntVal
				}
			}
			out.Spec.UpdateStrategy.RollingUpdate = r
		}
	}
	out.Spec.Template = c.template("spec.template", &spec.Template, ns)
	claims := map[string]bool{}
	for i := range spec.VolumeClaimTemplates {
		t := c.claimTemplate(index("spec.volumeClaimTemplates", i), &spec.VolumeClaimTemplates[i], ns)
		out.Spec.VolumeClaimTemplates = append(out.Spec.VolumeClaimTemplates, t)
		claims[t.GetMetadata().GetName()] = true
	}
	// A pod volume named like a claim template gives way to it, as in
	// Kubernetes.
	ps := out.Spec.Template.Spec
	kept := ps.Volumes[:0]
	for i, v := range ps.Volumes {
		if claims[v.GetName()] {
			c.r.warnf(index("spec.template.spec.volumes", i), "the volume claim template %q takes the place of this volume, as in Kubernetes; dropped", v.GetName())
			continue
		}
		kept = append(kept, v)
	}
	ps.Volumes = kept
	if r := spec.PersistentVolumeClaimRetentionPolicy; r != nil {
		out.Spec.PersistentVolumeClaimRetentionPolicy = &ordov1.PersistentVolumeClaimRetentionPolicy{
			WhenDeleted: string(r.WhenDeleted), WhenScaled: string(r.WhenScaled),
		}
	}
	return out
}

func (c *conv) template(path string, in *corev1.PodTemplateSpec, ns string) *ordov1.PodTemplate {
	if in.Namespace != "" && in.Namespace != ns {
		c.r.badf(path+".metadata.namespace", "%q: must be the set's namespace %q", in.Namespace, ns)
	}
	t := &ordov1.PodTemplate{
		Metadata: &ordov1.ObjectMeta{Labels: in.Labels, Annotations: in.Annotations},
		Spec:     c.podSpec(path+".spec", &in.Spec),
	}
	restorePrecision(t)
	return t
}

// claimTemplate converts an entry of spec.volumeClaimTemplates.
func (c *conv) claimTemplate(path string, in *corev1.PersistentVolumeClaim, ns string) *ordov1.PersistentVolumeClaim {
	if in.APIVersion != "" && in.APIVersion != "v1" {
		c.r.badf(path+".apiVersion", "%q is not supported (want v1)", in.APIVersion)
	}
	if in.Kind != "" && in.Kind != "PersistentVolumeClaim" {
		c.r.badf(path+".kind", "%q is not supported (want PersistentVolumeClaim)", in.Kind)
	}
	if in.Namespace != "" && in.Namespace != ns {
		c.r.badf(path+".metadata.namespace", "%q: must be the set's namespace %q", in.Namespace, ns)
	}
	return &ordov1.PersistentVolumeClaim{
		Metadata: &ordov1.ObjectMeta{Name: in.Name, Labels: in.Labels, Annotations: in.Annotations},
		Spec:     c.claimSpec(path+".spec", &in.Spec, in.Annotations),
	}
}

// ---------------------------------------------------------------- pods

func (c *conv) podSpec(path string, ps *corev1.PodSpec) *ordov1.PodSpec {
	out := &ordov1.PodSpec{
		RestartPolicy:         string(ps.RestartPolicy),
		NodeSelector:          ps.NodeSelector,
		HostNetwork:           ps.HostNetwork,
		SetHostnameAsFqdn:     val(ps.SetHostnameAsFQDN),
		ServiceAccountName:    ps.ServiceAccountName,
		ShareProcessNamespace: val(ps.ShareProcessNamespace),
		SecurityContext:       convertPodSecurityContext(ps.SecurityContext),
	}
	if out.ServiceAccountName == "" {
		out.ServiceAccountName = ps.DeprecatedServiceAccount
	}
	out.TerminationGracePeriodSeconds = ps.TerminationGracePeriodSeconds
	out.Affinity = c.affinity(path+".affinity", ps.Affinity)
	for _, t := range ps.Tolerations {
		out.Tolerations = append(out.Tolerations, &ordov1.Toleration{
			Key: t.Key, Operator: string(t.Operator), Value: t.Value, Effect: string(t.Effect),
			TolerationSeconds: ptr(t.TolerationSeconds),
		})
	}
	for _, t := range ps.TopologySpreadConstraints {
		out.TopologySpreadConstraints = append(out.TopologySpreadConstraints, &ordov1.TopologySpreadConstraint{
			MaxSkew: t.MaxSkew, TopologyKey: t.TopologyKey, WhenUnsatisfiable: string(t.WhenUnsatisfiable),
			LabelSelector: convertSelector(t.LabelSelector),
		})
	}
	for i := range ps.Volumes {
		out.Volumes = append(out.Volumes, c.volume(index(path+".volumes", i), &ps.Volumes[i]))
	}
	for i := range ps.InitContainers {
		out.InitContainers = append(out.InitContainers, c.container(index(path+".initContainers", i), &ps.InitContainers[i], true))
	}
	for i := range ps.Containers {
		out.Containers = append(out.Containers, c.container(index(path+".containers", i), &ps.Containers[i], false))
	}
	return out
}

func (c *conv) affinity(path string, a *corev1.Affinity) *ordov1.Affinity {
	if a == nil {
		return nil
	}
	aff := &ordov1.Affinity{}
	if na := a.NodeAffinity; na != nil {
		if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			if len(req.NodeSelectorTerms) == 0 {
				c.r.badf(path+".nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "must have at least one term")
			}
			for i := range req.NodeSelectorTerms {
				aff.NodeAffinityRequired = append(aff.NodeAffinityRequired, convertTerm(&req.NodeSelectorTerms[i]))
			}
		}
		for i := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			t := &na.PreferredDuringSchedulingIgnoredDuringExecution[i]
			aff.NodeAffinityPreferred = append(aff.NodeAffinityPreferred, &ordov1.PreferredSchedulingTerm{Weight: t.Weight, Preference: convertTerm(&t.Preference)})
		}
	}
	if pa := a.PodAffinity; pa != nil {
		for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			aff.PodAffinityRequired = append(aff.PodAffinityRequired, convertPodTerm(&pa.RequiredDuringSchedulingIgnoredDuringExecution[i]))
		}
		aff.PodAffinityPreferred = convertWeighted(pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			aff.PodAntiAffinityRequired = append(aff.PodAntiAffinityRequired, convertPodTerm(&pa.RequiredDuringSchedulingIgnoredDuringExecution[i]))
		}
		aff.PodAntiAffinityPreferred = convertWeighted(pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if len(aff.NodeAffinityRequired)+len(aff.NodeAffinityPreferred)+len(aff.PodAffinityRequired)+
		len(aff.PodAffinityPreferred)+len(aff.PodAntiAffinityRequired)+len(aff.PodAntiAffinityPreferred) == 0 {
		return nil
	}
	return aff
}

func convertPodSecurityContext(sc *corev1.PodSecurityContext) *ordov1.PodSecurityContext {
	if sc == nil {
		return nil
	}
	out := &ordov1.PodSecurityContext{
		RunAsUser: ptr(sc.RunAsUser), RunAsGroup: ptr(sc.RunAsGroup), RunAsNonRoot: ptr(sc.RunAsNonRoot),
		SupplementalGroups: sc.SupplementalGroups, FsGroup: ptr(sc.FSGroup),
	}
	if sp := sc.SeccompProfile; sp != nil {
		out.SeccompProfile = string(sp.Type)
	}
	for _, s := range sc.Sysctls {
		out.Sysctls = append(out.Sysctls, &ordov1.Sysctl{Name: s.Name, Value: s.Value})
	}
	return out
}

func convertSecurityContext(sc *corev1.SecurityContext) *ordov1.SecurityContext {
	if sc == nil {
		return nil
	}
	out := &ordov1.SecurityContext{
		RunAsUser: ptr(sc.RunAsUser), RunAsGroup: ptr(sc.RunAsGroup), RunAsNonRoot: ptr(sc.RunAsNonRoot),
		Privileged: ptr(sc.Privileged), ReadOnlyRootFilesystem: ptr(sc.ReadOnlyRootFilesystem),
		AllowPrivilegeEscalation: ptr(sc.AllowPrivilegeEscalation),
	}
	if cp := sc.Capabilities; cp != nil {
		out.Capabilities = &ordov1.Capabilities{}
		for _, a := range cp.Add {
			out.Capabilities.Add = append(out.Capabilities.Add, string(a))
		}
		for _, d := range cp.Drop {
			out.Capabilities.Drop = append(out.Capabilities.Drop, string(d))
		}
	}
	if sp := sc.SeccompProfile; sp != nil {
		out.SeccompProfile = string(sp.Type)
	}
	return out
}

func (c *conv) container(path string, in *corev1.Container, init bool) *ordov1.Container {
	out := &ordov1.Container{
		Name:            in.Name,
		Image:           in.Image,
		Command:         in.Command,
		Args:            in.Args,
		WorkingDir:      in.WorkingDir,
		ImagePullPolicy: string(in.ImagePullPolicy),
		SecurityContext: convertSecurityContext(in.SecurityContext),
	}
	if rp := in.RestartPolicy; rp != nil {
		if init {
			out.RestartPolicy = string(*rp)
		} else {
			c.r.badf(path+".restartPolicy", "may only be set for init containers (Always: a sidecar)")
		}
	}
	for i, e := range in.Env {
		out.Env = append(out.Env, &ordov1.EnvVar{Name: e.Name, Value: e.Value, ValueFrom: c.envSource(index(path+".env", i)+".valueFrom", e.ValueFrom)})
	}
	for _, e := range in.EnvFrom {
		src := &ordov1.EnvFromSource{Prefix: e.Prefix}
		if r := e.ConfigMapRef; r != nil {
			src.ConfigMap, src.Optional = r.Name, val(r.Optional)
		}
		if r := e.SecretRef; r != nil {
			src.Secret, src.Optional = r.Name, val(r.Optional) || src.Optional
		}
		out.EnvFrom = append(out.EnvFrom, src)
	}
	out.Resources = c.resources(path+".resources", &in.Resources)
	for _, m := range in.VolumeMounts {
		out.VolumeMounts = append(out.VolumeMounts, &ordov1.VolumeMount{Name: m.Name, MountPath: m.MountPath, SubPath: m.SubPath, ReadOnly: m.ReadOnly})
	}
	for _, p := range in.Ports {
		out.Ports = append(out.Ports, &ordov1.ContainerPort{
			Name: p.Name, ContainerPort: p.ContainerPort, Protocol: string(p.Protocol), HostPort: p.HostPort, HostIp: p.HostIP,
		})
	}
	out.ReadinessProbe = c.probe(path+".readinessProbe", in.ReadinessProbe, in.Ports)
	out.LivenessProbe = c.probe(path+".livenessProbe", in.LivenessProbe, in.Ports)
	out.StartupProbe = c.probe(path+".startupProbe", in.StartupProbe, in.Ports)
	if l := in.Lifecycle; l != nil && (l.PostStart != nil || l.PreStop != nil) {
		out.Lifecycle = &ordov1.Lifecycle{
			PostStart: c.handler(path+".lifecycle.postStart", l.PostStart, in.Ports),
			PreStop:   c.handler(path+".lifecycle.preStop", l.PreStop, in.Ports),
		}
	}
	return out
}

func (c *conv) envSource(path string, s *corev1.EnvVarSource) *ordov1.EnvVarSource {
	if s == nil {
		return nil
	}
	out := &ordov1.EnvVarSource{
		FieldRef:         c.fieldRef(path+".fieldRef", s.FieldRef),
		ResourceFieldRef: c.resourceFieldRef(path+".resourceFieldRef", s.ResourceFieldRef),
	}
	if r := s.ConfigMapKeyRef; r != nil {
		out.ConfigMapKeyRef = &ordov1.KeySelector{Name: r.Name, Key: r.Key, Optional: val(r.Optional)}
	}
	if r := s.SecretKeyRef; r != nil {
		out.SecretKeyRef = &ordov1.KeySelector{Name: r.Name, Key: r.Key, Optional: val(r.Optional)}
	}
	return out
}

func (c *conv) fieldRef(path string, f *corev1.ObjectFieldSelector) *ordov1.ObjectFieldSelector {
	if f == nil {
		return nil
	}
	if f.APIVersion != "" && f.APIVersion != "v1" {
		c.r.badf(path+".apiVersion", "%q is not supported (supported: v1)", f.APIVersion)
	}
	return &ordov1.ObjectFieldSelector{FieldPath: f.FieldPath}
}

func (c *conv) resourceFieldRef(path string, f *corev1.ResourceFieldSelector) *ordov1.ResourceFieldSelector {
	if f == nil {
		return nil
	}
	return &ordov1.ResourceFieldSelector{ContainerName: f.ContainerName, Resource: f.Resource, Divisor: c.quantity(path+".divisor", &f.Divisor)}
}

// Resources a container may request and be limited to.
const (
	resourceCPU              = string(corev1.ResourceCPU)
	resourceMemory           = string(corev1.ResourceMemory)
	resourceEphemeralStorage = string(corev1.ResourceEphemeralStorage)
)

func (c *conv) resources(path string, rr *corev1.ResourceRequirements) *ordov1.ResourceRequirements {
	if len(rr.Limits) == 0 && len(rr.Requests) == 0 {
		return nil
	}
	out := &ordov1.ResourceRequirements{}
	list := func(section string, in corev1.ResourceList) map[string]string {
		var m map[string]string
		for _, name := range sortedResourceNames(in) {
			q := in[corev1.ResourceName(name)]
			p := path + "." + section + "." + name
			switch name {
			case resourceCPU, resourceMemory:
				if m == nil {
					m = map[string]string{}
				}
				m[name] = c.quantity(p, &q)
			case resourceEphemeralStorage:
				c.r.warnf(p, "local storage is not limited here; accepted without effect")
			default:
				c.r.badf(p, "not supported (supported: cpu, memory)")
			}
		}
		return m
	}
	out.Limits = list("limits", rr.Limits)
	out.Requests = list("requests", rr.Requests)
	if out.Limits == nil && out.Requests == nil {
		return nil
	}
	return out
}

func sortedResourceNames(l corev1.ResourceList) []string {
	var names []string
	for n := range l {
		names = append(names, string(n))
	}
	sort.Strings(names)
	return names
}

// resolvePort turns a port given by number or by the name of one of the
// container's ports into its number; 0 after a reported problem.
func (c *conv) resolvePort(path string, p intstr.IntOrString, ports []corev1.ContainerPort) int32 {
	if p.Type == intstr.Int {
		if p.IntVal < 1 || p.IntVal > 65535 {
			c.r.badf(path, "must be between 1 and 65535, got %d", p.IntVal)
			return 0
		}
		return p.IntVal
	}
	for _, cp := range ports {
		if cp.Name != "" && cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	c.r.badf(path, "no container port named %q", p.StrVal)
	return 0
}

func (c *conv) httpGet(path string, h *corev1.HTTPGetAction, ports []corev1.ContainerPort) *ordov1.HTTPGetAction {
	if h == nil {
		return nil
	}
	out := &ordov1.HTTPGetAction{Path: h.Path, Port: c.resolvePort(path+".port", h.Port, ports), Host: h.Host, Scheme: string(h.Scheme)}
	for _, hd := range h.HTTPHeaders {
		out.HttpHeaders = append(out.HttpHeaders, &ordov1.EnvVar{Name: hd.Name, Value: hd.Value})
	}
	return out
}

func (c *conv) tcpSocket(path string, t *corev1.TCPSocketAction, ports []corev1.ContainerPort) *ordov1.TCPSocketAction {
	if t == nil {
		return nil
	}
	return &ordov1.TCPSocketAction{Port: c.resolvePort(path+".port", t.Port, ports), Host: t.Host}
}

func convertExec(e *corev1.ExecAction) *ordov1.ExecAction {
	if e == nil {
		return nil
	}
	return &ordov1.ExecAction{Command: e.Command}
}

func (c *conv) probe(path string, in *corev1.Probe, ports []corev1.ContainerPort) *ordov1.Probe {
	if in == nil {
		return nil
	}
	out := &ordov1.Probe{
		Exec:      convertExec(in.Exec),
		HttpGet:   c.httpGet(path+".httpGet", in.HTTPGet, ports),
		TcpSocket: c.tcpSocket(path+".tcpSocket", in.TCPSocket, ports),
	}
	if g := in.GRPC; g != nil {
		out.Grpc = &ordov1.GRPCAction{Port: g.Port, Service: val(g.Service)}
	}
	out.InitialDelayMs = c.millis(path+".initialDelaySeconds", false)
	out.PeriodMs = c.millis(path+".periodSeconds", true)
	out.TimeoutMs = c.millis(path+".timeoutSeconds", true)
	out.SuccessThreshold = c.threshold(path + ".successThreshold")
	out.FailureThreshold = c.threshold(path + ".failureThreshold")
	return out
}

// millis is a probe's time in seconds (fractions allowed: 0.2) as
// milliseconds; 0 when absent.
func (c *conv) millis(path string, positive bool) int64 {
	n, ok := c.probes[path]
	if !ok {
		return 0
	}
	v, _ := n.Float64()
	switch {
	case positive && v <= 0:
		c.r.badf(path, "must be > 0")
	case v < 0:
		c.r.badf(path, "must be >= 0")
	case v > 1e9:
		c.r.badf(path, "too large")
	default:
		ms := int64(v*1000 + 0.5)
		if positive && ms < 1 {
			c.r.badf(path, "must be at least 0.001 (1 ms)")
			return 0
		}
		return ms
	}
	return 0
}

// threshold is a probe's count; 0 when absent.
func (c *conv) threshold(path string) int32 {
	n, ok := c.probes[path]
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		if i, ok := integer(n, 32); ok {
			v, _ = strconv.ParseInt(string(i), 10, 32)
		} else {
			c.r.badf(path, "must be an integer, got %s", n)
			return 0
		}
	}
	if v < 1 {
		c.r.badf(path, "must be >= 1")
		return 0
	}
	return int32(v)
}

func (c *conv) handler(path string, h *corev1.LifecycleHandler, ports []corev1.ContainerPort) *ordov1.LifecycleHandler {
	if h == nil {
		return nil
	}
	out := &ordov1.LifecycleHandler{
		Exec:      convertExec(h.Exec),
		HttpGet:   c.httpGet(path+".httpGet", h.HTTPGet, ports),
		TcpSocket: c.tcpSocket(path+".tcpSocket", h.TCPSocket, ports),
	}
	if s := h.Sleep; s != nil {
		out.Sleep, out.SleepSeconds = true, s.Seconds
	}
	return out
}

// ---------------------------------------------------------------- pod volumes

func (c *conv) volume(path string, v *corev1.Volume) *ordov1.Volume {
	out := &ordov1.Volume{Name: v.Name}
	if h := v.HostPath; h != nil {
		out.HostPath = &ordov1.HostPathVolumeSource{Path: h.Path, Type: string(val(h.Type))}
	}
	if e := v.EmptyDir; e != nil {
		out.EmptyDir = &ordov1.EmptyDirVolumeSource{Medium: string(e.Medium)}
	}
	if p := v.PersistentVolumeClaim; p != nil {
		out.PersistentVolumeClaim = &ordov1.PersistentVolumeClaimVolumeSource{ClaimName: p.ClaimName, ReadOnly: p.ReadOnly}
	}
	if cm := v.ConfigMap; cm != nil {
		out.ConfigMap = &ordov1.ConfigMapVolumeSource{Name: cm.Name, Items: convertItems(cm.Items), DefaultMode: ptr(cm.DefaultMode), Optional: val(cm.Optional)}
	}
	if s := v.Secret; s != nil {
		out.Secret = &ordov1.SecretVolumeSource{SecretName: s.SecretName, Items: convertItems(s.Items), DefaultMode: ptr(s.DefaultMode), Optional: val(s.Optional)}
	}
	if d := v.DownwardAPI; d != nil {
		out.DownwardApi = &ordov1.DownwardAPIVolumeSource{Items: c.downwardFiles(path+".downwardAPI.items", d.Items), DefaultMode: ptr(d.DefaultMode)}
	}
	if p := v.Projected; p != nil {
		out.Projected = &ordov1.ProjectedVolumeSource{DefaultMode: ptr(p.DefaultMode)}
		for i, s := range p.Sources {
			src := &ordov1.VolumeProjection{}
			if cm := s.ConfigMap; cm != nil {
				src.ConfigMap = &ordov1.ConfigMapVolumeSource{Name: cm.Name, Items: convertItems(cm.Items), Optional: val(cm.Optional)}
			}
			if sec := s.Secret; sec != nil {
				src.Secret = &ordov1.SecretVolumeSource{SecretName: sec.Name, Items: convertItems(sec.Items), Optional: val(sec.Optional)}
			}
			if d := s.DownwardAPI; d != nil {
				src.DownwardApi = &ordov1.DownwardAPIVolumeSource{Items: c.downwardFiles(fmt.Sprintf("%s.projected.sources[%d].downwardAPI.items", path, i), d.Items)}
			}
			out.Projected.Sources = append(out.Projected.Sources, src)
		}
	}
	return out
}

func convertItems(items []corev1.KeyToPath) []*ordov1.KeyToPath {
	var out []*ordov1.KeyToPath
	for _, it := range items {
		out = append(out, &ordov1.KeyToPath{Key: it.Key, Path: it.Path, Mode: ptr(it.Mode)})
	}
	return out
}

func (c *conv) downwardFiles(path string, files []corev1.DownwardAPIVolumeFile) []*ordov1.DownwardAPIVolumeFile {
	var out []*ordov1.DownwardAPIVolumeFile
	for i, f := range files {
		out = append(out, &ordov1.DownwardAPIVolumeFile{
			Path:             f.Path,
			FieldRef:         c.fieldRef(index(path, i)+".fieldRef", f.FieldRef),
			ResourceFieldRef: c.resourceFieldRef(index(path, i)+".resourceFieldRef", f.ResourceFieldRef),
			Mode:             ptr(f.Mode),
		})
	}
	return out
}

// ---------------------------------------------------------------- Service

func (c *conv) service(in *corev1.Service) *ordov1.Service {
	spec := &in.Spec
	switch spec.Type {
	case "", corev1.ServiceTypeClusterIP:
	default:
		c.r.badf("spec.type", "%q is not supported (supported: ClusterIP)", spec.Type)
	}
	out := &ordov1.Service{
		Metadata: convertMeta(&in.ObjectMeta),
		Spec: &ordov1.ServiceSpec{
			ClusterIp:                spec.ClusterIP,
			Selector:                 spec.Selector,
			PublishNotReadyAddresses: spec.PublishNotReadyAddresses,
		},
	}
	if ips := spec.ClusterIPs; len(ips) == 1 {
		switch spec.ClusterIP {
		case "":
			out.Spec.ClusterIp = ips[0]
		case ips[0]:
		default:
			c.r.badf("spec.clusterIPs", "%q differs from spec.clusterIP %q", ips[0], spec.ClusterIP)
		}
	}
	for i, p := range spec.Ports {
		sp := &ordov1.ServicePort{Name: p.Name, Port: p.Port, Protocol: string(p.Protocol)}
		tp := p.TargetPort
		path := index("spec.ports", i) + ".targetPort"
		if tp.Type == intstr.String {
			if n, err := strconv.Atoi(tp.StrVal); err == nil {
				tp = intstr.FromInt(n)
			} else {
				c.r.badf(path, "%q: named target ports are not supported, give the port number", tp.StrVal)
				tp = intstr.FromInt(0)
			}
		}
		if tp.IntVal < 0 || tp.IntVal > 65535 {
			c.r.badf(path, "must be between 1 and 65535, got %d", tp.IntVal)
		} else {
			sp.TargetPort = tp.IntVal
		}
		out.Spec.Ports = append(out.Spec.Ports, sp)
	}
	return out
}
