// Package export turns ordo's stored objects into the Kubernetes objects
// kubectl would print for them (see Object).
package export

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Object turns a stored object into the Kubernetes object kubectl would
// print for it (apiVersion, kind, metadata.creationTimestamp, spec and status
// with Kubernetes' names and units), so that scripts written for kubectl
// read it and what `get -o yaml` prints applies again. What only ordo has
// goes into annotations under ordo.dev/: a pod's epoch and its agent-side
// phase, and probe times below one second.
func Object(m proto.Message) (any, error) {
	switch o := m.(type) {
	case *ordov1.StatefulSet:
		return exportStatefulSet(o), nil
	case *ordov1.Service:
		return exportService(o), nil
	case *ordov1.Pod:
		return exportPod(o), nil
	case *ordov1.NodeInfo:
		return exportNode(o), nil
	case *ordov1.PersistentVolume:
		return exportPV(o), nil
	case *ordov1.PersistentVolumeClaim:
		c := exportPVC(o)
		c.TypeMeta = typeMeta(kinds.PersistentVolumeClaim)
		return c, nil
	case *ordov1.StorageClass:
		return exportStorageClass(o), nil
	case *ordov1.ConfigMap:
		return &corev1.ConfigMap{TypeMeta: typeMeta(kinds.ConfigMap), ObjectMeta: exportMeta(o.GetMetadata()),
			Data: o.GetData(), BinaryData: o.GetBinaryData(), Immutable: boolPtrIf(o.GetImmutable())}, nil
	case *ordov1.Secret:
		return &corev1.Secret{TypeMeta: typeMeta(kinds.Secret), ObjectMeta: exportMeta(o.GetMetadata()),
			Data: o.GetData(), Type: corev1.SecretType(o.GetType()), Immutable: boolPtrIf(o.GetImmutable())}, nil
	case *ordov1.PodDisruptionBudget:
		return exportPDB(o), nil
	case *ordov1.Endpoints:
		return exportEndpoints(o), nil
	}
	return nil, fmt.Errorf("export: %T has no Kubernetes shape", m)
}

// List is a kubectl list of objects ("kind: List").
type List struct {
	APIVersion string `json:"apiVersion"`
	Items      []any  `json:"items"`
	Kind       string `json:"kind"`
	Metadata   struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
}

// Objects is the kubectl list of the exported objects.
func Objects(ms []proto.Message) (*List, error) {
	list := &List{APIVersion: "v1", Kind: "List", Items: []any{}}
	for _, m := range ms {
		o, err := Object(m)
		if err != nil {
			return nil, err
		}
		list.Items = append(list.Items, o)
	}
	return list, nil
}

func typeMeta(kind string) metav1.TypeMeta {
	k := kinds.MustLookup(kind)
	return metav1.TypeMeta{APIVersion: k.APIVersion, Kind: k.Name}
}

func timeOf(ts *timestamppb.Timestamp) metav1.Time {
	if ts == nil {
		return metav1.Time{}
	}
	return metav1.NewTime(ts.AsTime())
}

func timePtr(ts *timestamppb.Timestamp) *metav1.Time {
	if ts == nil {
		return nil
	}
	t := metav1.NewTime(ts.AsTime())
	return &t
}

func exportMeta(m *ordov1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:              m.GetName(),
		Namespace:         m.GetNamespace(),
		Labels:            m.GetLabels(),
		Annotations:       copyMap(m.GetAnnotations()),
		UID:               types.UID(m.GetUid()),
		Generation:        m.GetGeneration(),
		CreationTimestamp: timeOf(m.GetCreationTime()),
		DeletionTimestamp: timePtr(m.GetDeletionTime()),
	}
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func annotate(meta *metav1.ObjectMeta, k, v string) {
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[k] = v
}

func boolPtrIf(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

func int32Ptr(v int32) *int32 { return &v }

func gracePtr(ps *ordov1.PodSpec) *int64 {
	if ps == nil {
		return nil
	}
	return ps.TerminationGracePeriodSeconds
}

func exportSelector(s *ordov1.LabelSelector) *metav1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &metav1.LabelSelector{MatchLabels: s.GetMatchLabels()}
	for _, e := range s.GetMatchExpressions() {
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.GetKey(), Operator: metav1.LabelSelectorOperator(e.GetOperator()), Values: e.GetValues()})
	}
	return out
}

// ---------------------------------------------------------------- workloads

func exportStatefulSet(s *ordov1.StatefulSet) *appsv1.StatefulSet {
	spec := s.GetSpec()
	out := &appsv1.StatefulSet{
		TypeMeta:   typeMeta(kinds.StatefulSet),
		ObjectMeta: exportMeta(s.GetMetadata()),
		Spec: appsv1.StatefulSetSpec{
			Replicas:             int32Ptr(spec.GetReplicas()),
			Selector:             exportSelector(spec.GetSelector()),
			ServiceName:          spec.GetServiceName(),
			PodManagementPolicy:  appsv1.PodManagementPolicyType(spec.GetPodManagementPolicy()),
			MinReadySeconds:      spec.GetMinReadySeconds(),
			RevisionHistoryLimit: int32Ptr(spec.GetRevisionHistoryLimit()),
		},
	}
	out.Spec.Template = exportTemplate(spec.GetTemplate())
	if st := spec.GetOrdinalsStart(); st != 0 {
		out.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: st}
	}
	if u := spec.GetUpdateStrategy(); u != nil {
		out.Spec.UpdateStrategy.Type = appsv1.StatefulSetUpdateStrategyType(u.GetType())
		if ru := u.GetRollingUpdate(); ru != nil && out.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
			mu := intstr.FromInt32(ru.GetMaxUnavailable())
			out.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: int32Ptr(ru.GetPartition()), MaxUnavailable: &mu}
		}
	}
	for _, t := range spec.GetVolumeClaimTemplates() {
		c := exportPVC(t)
		c.Status = corev1.PersistentVolumeClaimStatus{}
		out.Spec.VolumeClaimTemplates = append(out.Spec.VolumeClaimTemplates, *c)
	}
	if p := spec.GetPersistentVolumeClaimRetentionPolicy(); p != nil {
		out.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.PersistentVolumeClaimRetentionPolicyType(p.GetWhenDeleted()),
			WhenScaled:  appsv1.PersistentVolumeClaimRetentionPolicyType(p.GetWhenScaled()),
		}
	}
	st := s.GetStatus()
	out.Status = appsv1.StatefulSetStatus{
		ObservedGeneration: st.GetObservedGeneration(),
		Replicas:           st.GetReplicas(),
		ReadyReplicas:      st.GetReadyReplicas(),
		AvailableReplicas:  st.GetAvailableReplicas(),
		CurrentReplicas:    st.GetCurrentReplicas(),
		UpdatedReplicas:    st.GetUpdatedReplicas(),
		CurrentRevision:    st.GetCurrentRevision(),
		UpdateRevision:     st.GetUpdateRevision(),
	}
	for _, c := range st.GetConditions() {
		out.Status.Conditions = append(out.Status.Conditions, appsv1.StatefulSetCondition{
			Type: appsv1.StatefulSetConditionType(c.GetType()), Status: corev1.ConditionStatus(c.GetStatus()),
			Reason: c.GetReason(), Message: c.GetMessage(), LastTransitionTime: timeOf(c.GetLastTransitionTime())})
	}
	return out
}

func exportTemplate(t *ordov1.PodTemplate) corev1.PodTemplateSpec {
	out := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
		Labels: t.GetMetadata().GetLabels(), Annotations: copyMap(t.GetMetadata().GetAnnotations())}}
	out.Spec = exportPodSpec(t.GetSpec(), &out.ObjectMeta)
	return out
}

// exportPodSpec converts a pod spec; probe times below one second are
// recorded as annotations of meta.
func exportPodSpec(ps *ordov1.PodSpec, meta *metav1.ObjectMeta) corev1.PodSpec {
	out := corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicy(ps.GetRestartPolicy()),
		NodeSelector:                  ps.GetNodeSelector(),
		TerminationGracePeriodSeconds: gracePtr(ps),
		Hostname:                      ps.GetHostname(),
		Subdomain:                     ps.GetSubdomain(),
		HostNetwork:                   ps.GetHostNetwork(),
		ServiceAccountName:            ps.GetServiceAccountName(),
	}
	if ps.GetSetHostnameAsFqdn() {
		out.SetHostnameAsFQDN = boolPtrIf(true)
	}
	if ps.GetShareProcessNamespace() {
		out.ShareProcessNamespace = boolPtrIf(true)
	}
	for _, c := range ps.GetInitContainers() {
		out.InitContainers = append(out.InitContainers, exportContainer(c, meta))
	}
	for _, c := range ps.GetContainers() {
		out.Containers = append(out.Containers, exportContainer(c, meta))
	}
	out.Affinity = exportAffinity(ps.GetAffinity())
	for _, v := range ps.GetVolumes() {
		out.Volumes = append(out.Volumes, exportVolume(v))
	}
	if sc := ps.GetSecurityContext(); sc != nil {
		out.SecurityContext = &corev1.PodSecurityContext{
			RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup, RunAsNonRoot: sc.RunAsNonRoot,
			SupplementalGroups: sc.GetSupplementalGroups(), FSGroup: sc.FsGroup, SeccompProfile: exportSeccomp(sc.GetSeccompProfile()),
		}
		for _, s := range sc.GetSysctls() {
			out.SecurityContext.Sysctls = append(out.SecurityContext.Sysctls, corev1.Sysctl{Name: s.GetName(), Value: s.GetValue()})
		}
	}
	for _, t := range ps.GetTolerations() {
		out.Tolerations = append(out.Tolerations, corev1.Toleration{Key: t.GetKey(), Operator: corev1.TolerationOperator(t.GetOperator()),
			Value: t.GetValue(), Effect: corev1.TaintEffect(t.GetEffect()), TolerationSeconds: t.TolerationSeconds})
	}
	for _, c := range ps.GetTopologySpreadConstraints() {
		out.TopologySpreadConstraints = append(out.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: c.GetMaxSkew(), TopologyKey: c.GetTopologyKey(),
			WhenUnsatisfiable: corev1.UnsatisfiableConstraintAction(c.GetWhenUnsatisfiable()), LabelSelector: exportSelector(c.GetLabelSelector())})
	}
	return out
}

func exportSeccomp(p string) *corev1.SeccompProfile {
	if p == "" {
		return nil
	}
	return &corev1.SeccompProfile{Type: corev1.SeccompProfileType(p)}
}

func exportNodeTerm(t *ordov1.NodeSelectorTerm) corev1.NodeSelectorTerm {
	var out corev1.NodeSelectorTerm
	for _, e := range t.GetMatchExpressions() {
		out.MatchExpressions = append(out.MatchExpressions, corev1.NodeSelectorRequirement{
			Key: e.GetKey(), Operator: corev1.NodeSelectorOperator(e.GetOperator()), Values: e.GetValues()})
	}
	return out
}

func exportPodTerm(t *ordov1.PodAffinityTerm) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{LabelSelector: exportSelector(t.GetLabelSelector()), TopologyKey: t.GetTopologyKey()}
}

func exportWeighted(ws []*ordov1.WeightedPodAffinityTerm) []corev1.WeightedPodAffinityTerm {
	var out []corev1.WeightedPodAffinityTerm
	for _, w := range ws {
		out = append(out, corev1.WeightedPodAffinityTerm{Weight: w.GetWeight(), PodAffinityTerm: exportPodTerm(w.GetPodAffinityTerm())})
	}
	return out
}

func exportAffinity(a *ordov1.Affinity) *corev1.Affinity {
	if a == nil {
		return nil
	}
	out := &corev1.Affinity{}
	if len(a.GetNodeAffinityRequired()) > 0 || len(a.GetNodeAffinityPreferred()) > 0 {
		out.NodeAffinity = &corev1.NodeAffinity{}
		if len(a.GetNodeAffinityRequired()) > 0 {
			sel := &corev1.NodeSelector{}
			for _, t := range a.GetNodeAffinityRequired() {
				sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, exportNodeTerm(t))
			}
			out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
		}
		for _, p := range a.GetNodeAffinityPreferred() {
			out.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(out.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
				corev1.PreferredSchedulingTerm{Weight: p.GetWeight(), Preference: exportNodeTerm(p.GetPreference())})
		}
	}
	if len(a.GetPodAffinityRequired()) > 0 || len(a.GetPodAffinityPreferred()) > 0 {
		out.PodAffinity = &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: exportWeighted(a.GetPodAffinityPreferred())}
		for _, t := range a.GetPodAffinityRequired() {
			out.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(out.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, exportPodTerm(t))
		}
	}
	if len(a.GetPodAntiAffinityRequired()) > 0 || len(a.GetPodAntiAffinityPreferred()) > 0 {
		out.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: exportWeighted(a.GetPodAntiAffinityPreferred())}
		for _, t := range a.GetPodAntiAffinityRequired() {
			out.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(out.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, exportPodTerm(t))
		}
	}
	return out
}

// seconds converts milliseconds to Kubernetes' whole seconds; a value below
// one second's precision is recorded in an annotation of meta as well.
func seconds(ms int64, meta *metav1.ObjectMeta, key string) int32 {
	if ms%1000 != 0 && meta != nil {
		annotate(meta, "ordo.dev/"+key+"-ms", strconv.FormatInt(ms, 10))
	}
	return int32((ms + 999) / 1000)
}

func exportProbe(p *ordov1.Probe, meta *metav1.ObjectMeta, key string) *corev1.Probe {
	if p == nil {
		return nil
	}
	out := &corev1.Probe{
		InitialDelaySeconds: seconds(p.GetInitialDelayMs(), meta, key+".initial-delay"),
		PeriodSeconds:       seconds(p.GetPeriodMs(), meta, key+".period"),
		TimeoutSeconds:      seconds(p.GetTimeoutMs(), meta, key+".timeout"),
		SuccessThreshold:    p.GetSuccessThreshold(),
		FailureThreshold:    p.GetFailureThreshold(),
	}
	out.ProbeHandler = exportHandler(p.GetExec(), p.GetHttpGet(), p.GetTcpSocket())
	if g := p.GetGrpc(); g != nil {
		svc := g.GetService()
		out.GRPC = &corev1.GRPCAction{Port: g.GetPort(), Service: &svc}
	}
	return out
}

func exportHandler(e *ordov1.ExecAction, h *ordov1.HTTPGetAction, t *ordov1.TCPSocketAction) corev1.ProbeHandler {
	var out corev1.ProbeHandler
	if e != nil {
		out.Exec = &corev1.ExecAction{Command: e.GetCommand()}
	}
	if h != nil {
		out.HTTPGet = &corev1.HTTPGetAction{Path: h.GetPath(), Port: intstr.FromInt32(h.GetPort()), Host: h.GetHost(), Scheme: corev1.URIScheme(h.GetScheme())}
		for _, hd := range h.GetHttpHeaders() {
			out.HTTPGet.HTTPHeaders = append(out.HTTPGet.HTTPHeaders, corev1.HTTPHeader{Name: hd.GetName(), Value: hd.GetValue()})
		}
	}
	if t != nil {
		out.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt32(t.GetPort()), Host: t.GetHost()}
	}
	return out
}

func exportLifecycleHandler(h *ordov1.LifecycleHandler) *corev1.LifecycleHandler {
	if h == nil {
		return nil
	}
	ph := exportHandler(h.GetExec(), h.GetHttpGet(), h.GetTcpSocket())
	out := &corev1.LifecycleHandler{Exec: ph.Exec, HTTPGet: ph.HTTPGet, TCPSocket: ph.TCPSocket}
	if h.GetSleep() {
		out.Sleep = &corev1.SleepAction{Seconds: h.GetSleepSeconds()}
	}
	return out
}

func exportFieldRef(f *ordov1.ObjectFieldSelector) *corev1.ObjectFieldSelector {
	if f == nil {
		return nil
	}
	return &corev1.ObjectFieldSelector{FieldPath: f.GetFieldPath()}
}

func exportResourceRef(r *ordov1.ResourceFieldSelector) *corev1.ResourceFieldSelector {
	if r == nil {
		return nil
	}
	out := &corev1.ResourceFieldSelector{ContainerName: r.GetContainerName(), Resource: r.GetResource()}
	if q, err := resource.ParseQuantity(r.GetDivisor()); err == nil {
		out.Divisor = q
	}
	return out
}

func resourceList(m map[string]string) corev1.ResourceList {
	if len(m) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	for k, v := range m {
		if q, err := resource.ParseQuantity(v); err == nil {
			out[corev1.ResourceName(k)] = q
		}
	}
	return out
}

func exportContainer(c *ordov1.Container, meta *metav1.ObjectMeta) corev1.Container {
	out := corev1.Container{
		Name:            c.GetName(),
		Image:           c.GetImage(),
		Command:         c.GetCommand(),
		Args:            c.GetArgs(),
		WorkingDir:      c.GetWorkingDir(),
		ImagePullPolicy: corev1.PullPolicy(c.GetImagePullPolicy()),
		ReadinessProbe:  exportProbe(c.GetReadinessProbe(), meta, c.GetName()+".readiness"),
		LivenessProbe:   exportProbe(c.GetLivenessProbe(), meta, c.GetName()+".liveness"),
		StartupProbe:    exportProbe(c.GetStartupProbe(), meta, c.GetName()+".startup"),
	}
	if rp := c.GetRestartPolicy(); rp != "" {
		p := corev1.ContainerRestartPolicy(rp)
		out.RestartPolicy = &p
	}
	for _, e := range c.GetEnv() {
		ev := corev1.EnvVar{Name: e.GetName(), Value: e.GetValue()}
		if vf := e.GetValueFrom(); vf != nil {
			ev.ValueFrom = &corev1.EnvVarSource{FieldRef: exportFieldRef(vf.GetFieldRef()), ResourceFieldRef: exportResourceRef(vf.GetResourceFieldRef())}
			if r := vf.GetConfigMapKeyRef(); r != nil {
				ev.ValueFrom.ConfigMapKeyRef = &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: r.GetName()}, Key: r.GetKey(), Optional: boolPtrIf(r.GetOptional())}
			}
			if r := vf.GetSecretKeyRef(); r != nil {
				ev.ValueFrom.SecretKeyRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: r.GetName()}, Key: r.GetKey(), Optional: boolPtrIf(r.GetOptional())}
			}
		}
		out.Env = append(out.Env, ev)
	}
	for _, e := range c.GetEnvFrom() {
		ef := corev1.EnvFromSource{Prefix: e.GetPrefix()}
		if e.GetConfigMap() != "" {
			ef.ConfigMapRef = &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: e.GetConfigMap()}, Optional: boolPtrIf(e.GetOptional())}
		}
		if e.GetSecret() != "" {
			ef.SecretRef = &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: e.GetSecret()}, Optional: boolPtrIf(e.GetOptional())}
		}
		out.EnvFrom = append(out.EnvFrom, ef)
	}
	for _, p := range c.GetPorts() {
		out.Ports = append(out.Ports, corev1.ContainerPort{Name: p.GetName(), ContainerPort: p.GetContainerPort(),
			Protocol: corev1.Protocol(p.GetProtocol()), HostPort: p.GetHostPort(), HostIP: p.GetHostIp()})
	}
	for _, m := range c.GetVolumeMounts() {
		out.VolumeMounts = append(out.VolumeMounts, corev1.VolumeMount{Name: m.GetName(), MountPath: m.GetMountPath(), SubPath: m.GetSubPath(), ReadOnly: m.GetReadOnly()})
	}
	if r := c.GetResources(); r != nil {
		out.Resources = corev1.ResourceRequirements{Limits: resourceList(r.GetLimits()), Requests: resourceList(r.GetRequests())}
	}
	if l := c.GetLifecycle(); l != nil {
		out.Lifecycle = &corev1.Lifecycle{PostStart: exportLifecycleHandler(l.GetPostStart()), PreStop: exportLifecycleHandler(l.GetPreStop())}
	}
	if sc := c.GetSecurityContext(); sc != nil {
		out.SecurityContext = &corev1.SecurityContext{
			RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup, RunAsNonRoot: sc.RunAsNonRoot, Privileged: sc.Privileged,
			ReadOnlyRootFilesystem: sc.ReadOnlyRootFilesystem, AllowPrivilegeEscalation: sc.AllowPrivilegeEscalation,
			SeccompProfile: exportSeccomp(sc.GetSeccompProfile()),
		}
		if caps := sc.GetCapabilities(); caps != nil {
			out.SecurityContext.Capabilities = &corev1.Capabilities{}
			for _, a := range caps.GetAdd() {
				out.SecurityContext.Capabilities.Add = append(out.SecurityContext.Capabilities.Add, corev1.Capability(a))
			}
			for _, d := range caps.GetDrop() {
				out.SecurityContext.Capabilities.Drop = append(out.SecurityContext.Capabilities.Drop, corev1.Capability(d))
			}
		}
	}
	return out
}

func exportKeys(items []*ordov1.KeyToPath) []corev1.KeyToPath {
	var out []corev1.KeyToPath
	for _, it := range items {
		out = append(out, corev1.KeyToPath{Key: it.GetKey(), Path: it.GetPath(), Mode: it.Mode})
	}
	return out
}

func exportDownward(d *ordov1.DownwardAPIVolumeSource) *corev1.DownwardAPIVolumeSource {
	if d == nil {
		return nil
	}
	out := &corev1.DownwardAPIVolumeSource{DefaultMode: d.DefaultMode}
	for _, it := range d.GetItems() {
		out.Items = append(out.Items, corev1.DownwardAPIVolumeFile{Path: it.GetPath(), FieldRef: exportFieldRef(it.GetFieldRef()),
			ResourceFieldRef: exportResourceRef(it.GetResourceFieldRef()), Mode: it.Mode})
	}
	return out
}

func exportConfigMapSource(c *ordov1.ConfigMapVolumeSource) *corev1.ConfigMapVolumeSource {
	if c == nil {
		return nil
	}
	return &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: c.GetName()},
		Items: exportKeys(c.GetItems()), DefaultMode: c.DefaultMode, Optional: boolPtrIf(c.GetOptional())}
}

func exportSecretSource(s *ordov1.SecretVolumeSource) *corev1.SecretVolumeSource {
	if s == nil {
		return nil
	}
	return &corev1.SecretVolumeSource{SecretName: s.GetSecretName(), Items: exportKeys(s.GetItems()), DefaultMode: s.DefaultMode, Optional: boolPtrIf(s.GetOptional())}
}

func exportVolume(v *ordov1.Volume) corev1.Volume {
	out := corev1.Volume{Name: v.GetName()}
	switch {
	case v.GetHostPath() != nil:
		t := corev1.HostPathType(v.GetHostPath().GetType())
		out.HostPath = &corev1.HostPathVolumeSource{Path: v.GetHostPath().GetPath(), Type: &t}
	case v.GetEmptyDir() != nil:
		out.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(v.GetEmptyDir().GetMedium())}
	case v.GetPersistentVolumeClaim() != nil:
		out.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.GetPersistentVolumeClaim().GetClaimName(), ReadOnly: v.GetPersistentVolumeClaim().GetReadOnly()}
	case v.GetConfigMap() != nil:
		out.ConfigMap = exportConfigMapSource(v.GetConfigMap())
	case v.GetSecret() != nil:
		out.Secret = exportSecretSource(v.GetSecret())
	case v.GetDownwardApi() != nil:
		out.DownwardAPI = exportDownward(v.GetDownwardApi())
	case v.GetProjected() != nil:
		p := &corev1.ProjectedVolumeSource{DefaultMode: v.GetProjected().DefaultMode}
		for _, src := range v.GetProjected().GetSources() {
			var vp corev1.VolumeProjection
			if c := src.GetConfigMap(); c != nil {
				vp.ConfigMap = &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: c.GetName()}, Items: exportKeys(c.GetItems()), Optional: boolPtrIf(c.GetOptional())}
			}
			if s := src.GetSecret(); s != nil {
				vp.Secret = &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: s.GetSecretName()}, Items: exportKeys(s.GetItems()), Optional: boolPtrIf(s.GetOptional())}
			}
			if d := exportDownward(src.GetDownwardApi()); d != nil {
				vp.DownwardAPI = &corev1.DownwardAPIProjection{Items: d.Items}
			}
			p.Sources = append(p.Sources, vp)
		}
		out.Projected = p
	}
	return out
}

// podPhases maps ordo's phases to Kubernetes'; ordo's own ones (a pod
// being stopped, a pod gone) are Running and Succeeded there, with the
// precise phase in an annotation.
var podPhases = map[ordov1.PodPhase]corev1.PodPhase{
	ordov1.PodPhase_POD_PHASE_PENDING:     corev1.PodPending,
	ordov1.PodPhase_POD_PHASE_RUNNING:     corev1.PodRunning,
	ordov1.PodPhase_POD_PHASE_SUCCEEDED:   corev1.PodSucceeded,
	ordov1.PodPhase_POD_PHASE_FAILED:      corev1.PodFailed,
	ordov1.PodPhase_POD_PHASE_UNKNOWN:     corev1.PodUnknown,
	ordov1.PodPhase_POD_PHASE_TERMINATING: corev1.PodRunning,
	ordov1.PodPhase_POD_PHASE_GONE:        corev1.PodSucceeded,
}

// PhaseName is a phase as people read it: Running, Terminating, Gone.
func PhaseName(p ordov1.PodPhase) string {
	s := strings.TrimPrefix(p.String(), "POD_PHASE_")
	if s == "UNSPECIFIED" {
		return "Pending"
	}
	return s[:1] + strings.ToLower(s[1:])
}

func exportContainerStatuses(sts []*ordov1.ContainerStatus, specs []*ordov1.Container) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	image := map[string]string{}
	for _, c := range specs {
		image[c.GetName()] = c.GetImage()
	}
	for _, c := range sts {
		cs := corev1.ContainerStatus{Name: c.GetName(), ContainerID: c.GetContainerId(), Ready: c.GetReady(),
			RestartCount: c.GetRestartCount(), Image: image[c.GetName()]}
		started := c.GetRunning()
		cs.Started = &started
		switch {
		case c.GetRunning():
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: timeOf(c.GetStartedTime())}
		case c.GetReason() != "" && c.GetLastExitCode() == 0 && c.GetRestartCount() == 0:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.GetReason(), Message: c.GetMessage()}
		default:
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: c.GetLastExitCode(), Reason: c.GetReason(), Message: c.GetMessage()}
		}
		out = append(out, cs)
	}
	return out
}

func exportPod(p *ordov1.Pod) *corev1.Pod {
	out := &corev1.Pod{TypeMeta: typeMeta(kinds.Pod), ObjectMeta: exportMeta(p.GetMetadata())}
	out.Spec = exportPodSpec(p.GetSpec(), &out.ObjectMeta)
	out.Spec.NodeName = p.GetNodeName()
	annotate(&out.ObjectMeta, "ordo.dev/epoch", strconv.FormatUint(p.GetEpoch(), 10))
	st := p.GetStatus()
	if ph := st.GetPhase(); ph == ordov1.PodPhase_POD_PHASE_TERMINATING || ph == ordov1.PodPhase_POD_PHASE_GONE {
		annotate(&out.ObjectMeta, "ordo.dev/phase", PhaseName(ph))
	}
	out.Status = corev1.PodStatus{
		Phase:     podPhases[st.GetPhase()],
		Reason:    st.GetReason(),
		Message:   st.GetMessage(),
		PodIP:     st.GetPodIp(),
		HostIP:    st.GetHostIp(),
		StartTime: timePtr(st.GetStartedTime()),
	}
	if out.Status.Phase == "" {
		out.Status.Phase = corev1.PodPending
	}
	if ip := st.GetPodIp(); ip != "" {
		out.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	ready := corev1.ConditionFalse
	if st.GetReady() {
		ready = corev1.ConditionTrue
	}
	if p.GetScheduledTime() != nil {
		out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: timeOf(p.GetScheduledTime())})
	}
	out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: ready, LastTransitionTime: timeOf(st.GetReadyTime())})
	out.Status.InitContainerStatuses = exportContainerStatuses(st.GetInitContainers(), p.GetSpec().GetInitContainers())
	out.Status.ContainerStatuses = exportContainerStatuses(st.GetContainers(), p.GetSpec().GetContainers())
	return out
}

func exportNode(n *ordov1.NodeInfo) *corev1.Node {
	out := &corev1.Node{TypeMeta: typeMeta(kinds.Node), ObjectMeta: exportMeta(n.GetMetadata())}
	out.Spec.PodCIDR = n.GetPodCidr()
	if c := n.GetPodCidr(); c != "" {
		out.Spec.PodCIDRs = []string{c}
	}
	for _, a := range n.GetAddresses() {
		out.Status.Addresses = append(out.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
	}
	out.Status.Addresses = append(out.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: n.GetMetadata().GetName()})
	c := n.GetCapacity()
	out.Status.Capacity = corev1.ResourceList{
		corev1.ResourcePods:   *resource.NewQuantity(int64(c.GetMaxPods()), resource.DecimalSI),
		corev1.ResourceCPU:    *resource.NewMilliQuantity(c.GetCpuMillis(), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(c.GetMemoryBytes(), resource.BinarySI),
	}
	out.Status.Allocatable = corev1.ResourceList{
		corev1.ResourcePods:   *resource.NewQuantity(int64(c.GetMaxPods()), resource.DecimalSI),
		corev1.ResourceCPU:    *resource.NewMilliQuantity(firstNonZero(c.GetAllocatableCpuMillis(), c.GetCpuMillis()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(firstNonZero(c.GetAllocatableMemoryBytes(), c.GetMemoryBytes()), resource.BinarySI),
	}
	ready := corev1.ConditionFalse
	if n.GetReady() {
		ready = corev1.ConditionTrue
	}
	out.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, LastHeartbeatTime: timeOf(n.GetLastHeartbeat())}}
	out.Status.NodeInfo.KubeletVersion = n.GetAgentVersion()
	out.Status.NodeInfo.OperatingSystem = "linux"
	return out
}

func firstNonZero(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

func exportService(s *ordov1.Service) *corev1.Service {
	spec := s.GetSpec()
	out := &corev1.Service{TypeMeta: typeMeta(kinds.Service), ObjectMeta: exportMeta(s.GetMetadata()),
		Spec: corev1.ServiceSpec{ClusterIP: spec.GetClusterIp(), Selector: spec.GetSelector(), PublishNotReadyAddresses: spec.GetPublishNotReadyAddresses()}}
	if ip := spec.GetClusterIp(); ip != "" {
		out.Spec.ClusterIPs = []string{ip}
	}
	for _, p := range spec.GetPorts() {
		sp := corev1.ServicePort{Name: p.GetName(), Port: p.GetPort(), Protocol: corev1.Protocol(p.GetProtocol())}
		if p.GetTargetPort() != 0 {
			sp.TargetPort = intstr.FromInt32(p.GetTargetPort())
		}
		out.Spec.Ports = append(out.Spec.Ports, sp)
	}
	return out
}

func exportEndpoints(e *ordov1.Endpoints) *corev1.Endpoints {
	out := &corev1.Endpoints{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"}, ObjectMeta: exportMeta(e.GetMetadata())}
	var sub corev1.EndpointSubset
	for _, a := range e.GetAddresses() {
		nn := a.GetNodeName()
		ea := corev1.EndpointAddress{IP: a.GetIp(), Hostname: a.GetHostname(), NodeName: &nn,
			TargetRef: &corev1.ObjectReference{Kind: kinds.Pod, Name: a.GetPodName(), Namespace: e.GetMetadata().GetNamespace()}}
		if a.GetReady() {
			sub.Addresses = append(sub.Addresses, ea)
		} else {
			sub.NotReadyAddresses = append(sub.NotReadyAddresses, ea)
		}
	}
	for _, p := range e.GetPorts() {
		port := p.GetTargetPort()
		if port == 0 {
			port = p.GetPort()
		}
		sub.Ports = append(sub.Ports, corev1.EndpointPort{Name: p.GetName(), Port: port, Protocol: corev1.Protocol(p.GetProtocol())})
	}
	if len(sub.Addresses)+len(sub.NotReadyAddresses) > 0 {
		out.Subsets = []corev1.EndpointSubset{sub}
	}
	return out
}

// ---------------------------------------------------------------- storage

func exportNodeAffinity(terms []*ordov1.NodeSelectorTerm) *corev1.VolumeNodeAffinity {
	if len(terms) == 0 {
		return nil
	}
	sel := &corev1.NodeSelector{}
	for _, t := range terms {
		sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, exportNodeTerm(t))
	}
	return &corev1.VolumeNodeAffinity{Required: sel}
}

func accessModes(ms []string) []corev1.PersistentVolumeAccessMode {
	var out []corev1.PersistentVolumeAccessMode
	for _, m := range ms {
		out = append(out, corev1.PersistentVolumeAccessMode(m))
	}
	return out
}

func storageList(q string) corev1.ResourceList {
	if q == "" {
		return nil
	}
	v, err := resource.ParseQuantity(q)
	if err != nil {
		return nil
	}
	return corev1.ResourceList{corev1.ResourceStorage: v}
}

func exportPV(v *ordov1.PersistentVolume) *corev1.PersistentVolume {
	spec := v.GetSpec()
	out := &corev1.PersistentVolume{TypeMeta: typeMeta(kinds.PersistentVolume), ObjectMeta: exportMeta(v.GetMetadata()),
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      storageList(spec.GetCapacity()),
			AccessModes:                   accessModes(spec.GetAccessModes()),
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimPolicy(spec.GetReclaimPolicy()),
			StorageClassName:              spec.GetStorageClassName(),
			MountOptions:                  spec.GetMountOptions(),
			NodeAffinity:                  exportNodeAffinity(spec.GetNodeAffinityRequired()),
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.PersistentVolumePhase(v.GetStatus().GetPhase()), Reason: v.GetStatus().GetReason(), Message: v.GetStatus().GetMessage()},
	}
	if m := spec.GetVolumeMode(); m != "" {
		vm := corev1.PersistentVolumeMode(m)
		out.Spec.VolumeMode = &vm
	}
	switch {
	case spec.GetLocal() != nil:
		out.Spec.Local = &corev1.LocalVolumeSource{Path: spec.GetLocal().GetPath()}
	case spec.GetHostPath() != nil:
		t := corev1.HostPathType(spec.GetHostPath().GetType())
		out.Spec.HostPath = &corev1.HostPathVolumeSource{Path: spec.GetHostPath().GetPath(), Type: &t}
	case spec.GetNfs() != nil:
		out.Spec.NFS = &corev1.NFSVolumeSource{Server: spec.GetNfs().GetServer(), Path: spec.GetNfs().GetPath(), ReadOnly: spec.GetNfs().GetReadOnly()}
	}
	if r := spec.GetClaimRef(); r != nil {
		out.Spec.ClaimRef = &corev1.ObjectReference{Kind: r.GetKind(), Namespace: r.GetNamespace(), Name: r.GetName(), UID: types.UID(r.GetUid())}
	}
	return out
}

func exportPVC(c *ordov1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	spec := c.GetSpec()
	out := &corev1.PersistentVolumeClaim{ObjectMeta: exportMeta(c.GetMetadata()),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: accessModes(spec.GetAccessModes()),
			Resources:   corev1.VolumeResourceRequirements{Requests: storageList(spec.GetStorage())},
			Selector:    exportSelector(spec.GetSelector()),
			VolumeName:  spec.GetVolumeName(),
		},
	}
	if spec.GetStorageClassSet() || spec.GetStorageClassName() != "" {
		sc := spec.GetStorageClassName()
		out.Spec.StorageClassName = &sc
	}
	if m := spec.GetVolumeMode(); m != "" {
		vm := corev1.PersistentVolumeMode(m)
		out.Spec.VolumeMode = &vm
	}
	if st := c.GetStatus(); st != nil {
		out.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.PersistentVolumeClaimPhase(st.GetPhase()),
			AccessModes: accessModes(st.GetAccessModes()), Capacity: storageList(st.GetCapacity())}
	}
	return out
}

func exportStorageClass(s *ordov1.StorageClass) *storagev1.StorageClass {
	out := &storagev1.StorageClass{TypeMeta: typeMeta(kinds.StorageClass), ObjectMeta: exportMeta(s.GetMetadata()),
		Provisioner: s.GetProvisioner(), MountOptions: s.GetMountOptions()}
	if p := s.GetReclaimPolicy(); p != "" {
		rp := corev1.PersistentVolumeReclaimPolicy(p)
		out.ReclaimPolicy = &rp
	}
	if m := s.GetVolumeBindingMode(); m != "" {
		bm := storagev1.VolumeBindingMode(m)
		out.VolumeBindingMode = &bm
	}
	if s.GetIsDefault() {
		annotate(&out.ObjectMeta, "storageclass.kubernetes.io/is-default-class", "true")
	}
	return out
}

func exportPDB(p *ordov1.PodDisruptionBudget) *policyv1.PodDisruptionBudget {
	out := &policyv1.PodDisruptionBudget{TypeMeta: typeMeta(kinds.PodDisruptionBudget), ObjectMeta: exportMeta(p.GetMetadata()),
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: exportSelector(p.GetSpec().GetSelector())}}
	if v := p.GetSpec().GetMinAvailable(); v != "" {
		x := intstr.Parse(v)
		out.Spec.MinAvailable = &x
	}
	if v := p.GetSpec().GetMaxUnavailable(); v != "" {
		x := intstr.Parse(v)
		out.Spec.MaxUnavailable = &x
	}
	st := p.GetStatus()
	out.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: st.GetObservedGeneration(), CurrentHealthy: st.GetCurrentHealthy(),
		DesiredHealthy: st.GetDesiredHealthy(), DisruptionsAllowed: st.GetDisruptionsAllowed(), ExpectedPods: st.GetExpectedPods()}
	return out
}
