package manifest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What ordo does with each field of the Kubernetes types it decodes. After
// the strict decode, checkFields walks the typed object: every field that is
// set must be named here, in the rules of the struct that holds it. A field
// that is not named is refused by its path ("field not supported"); one that
// can have no effect here is accepted with a warning that says so; the
// others are converted. Values are checked later, by the conversion and by
// Normalize.

type verdict int

const (
	allowed verdict = iota
	warned
	refused
)

// rule is what happens to one field when it is set.
type rule struct {
	verdict verdict
	msg     string // the warning, or why the field is refused
	// byValue decides by the field's value instead (dnsPolicy ClusterFirst
	// is accepted with a warning, None is refused).
	byValue func(v reflect.Value) (verdict, string)
	// fields are the rules of the field's struct here, in place of those of
	// its type (a pod template's metadata is not an object's).
	fields rules
}

// rules are the rules of one struct's fields, by JSON name.
type rules map[string]rule

var allow = rule{}

func warn(msg string) rule { return rule{verdict: warned, msg: msg} }

func refuse(msg string) rule { return rule{verdict: refused, msg: msg} }

// only accepts the values named, each with its warning ("" for none), and
// refuses the others.
func only(values map[string]string) rule {
	return rule{byValue: func(v reflect.Value) (verdict, string) {
		s := fmt.Sprint(deref(v).Interface())
		if msg, ok := values[s]; ok {
			if msg == "" {
				return allowed, ""
			}
			return warned, msg
		}
		var names []string
		for k := range values {
			names = append(names, k)
		}
		sort.Strings(names)
		return refused, fmt.Sprintf("%q is not supported (supported: %s)", s, joinComma(names))
	}}
}

// Warnings.
const (
	noEffect      = "accepted without effect"
	serverWritten = "written by a Kubernetes API server; ignored"
	statusIgnored = "written by the cluster; ignored"
	noPodAPI      = "pods here have no API to reach; accepted without effect"
	noTaints      = "nodes here have no taints; accepted without effect"
	noPriorities  = "pods here have no priorities or preemption; accepted without effect"
)

var (
	objectMetaRules = rules{
		"name": allow, "namespace": allow, "labels": allow, "annotations": allow,
		"uid": warn(serverWritten), "resourceVersion": warn(serverWritten), "generation": warn(serverWritten),
		"creationTimestamp": warn(serverWritten), "selfLink": warn(serverWritten), "managedFields": warn(serverWritten),
		"deletionTimestamp": warn(serverWritten), "deletionGracePeriodSeconds": warn(serverWritten),
	}
	// The namespace of a pod template or claim template, where published
	// manifests give it, must be the set's (checked by the conversion).
	templateMetaRules = rules{
		"labels": allow, "annotations": allow, "namespace": allow,
		"name":              warn("pods are named after their set and ordinal; ignored"),
		"creationTimestamp": warn(serverWritten), "uid": warn(serverWritten), "resourceVersion": warn(serverWritten),
	}
	claimTemplateMetaRules = rules{
		"name": allow, "labels": allow, "annotations": allow, "namespace": allow,
		"creationTimestamp": warn(serverWritten), "uid": warn(serverWritten), "resourceVersion": warn(serverWritten),
	}
	claimTemplateRules = rules{
		"apiVersion": allow, "kind": allow, // checked by the conversion
		"metadata": {fields: claimTemplateMetaRules}, "spec": allow, "status": warn(statusIgnored),
	}
	typeMetaRules = rules{"apiVersion": allow, "kind": allow}
	objectRules   = func(spec string, extra rules) rules {
		rs := rules{"metadata": {fields: objectMetaRules}, spec: allow, "status": warn(statusIgnored)}
		for k, v := range extra {
			rs[k] = v
		}
		return rs
	}
)

// fieldRules has the rules of every struct type that may be set; a struct
// without rules has every field refused.
var fieldRules = map[reflect.Type]rules{
	typeOf[metav1.TypeMeta]():                 typeMetaRules,
	typeOf[metav1.ObjectMeta]():               objectMetaRules,
	typeOf[metav1.LabelSelector]():            {"matchLabels": allow, "matchExpressions": allow},
	typeOf[metav1.LabelSelectorRequirement](): {"key": allow, "operator": allow, "values": allow},

	// StatefulSet.
	typeOf[appsv1.StatefulSet](): objectRules("spec", nil),
	typeOf[appsv1.StatefulSetSpec](): {
		"replicas": allow, "selector": allow, "template": allow,
		"volumeClaimTemplates": {fields: claimTemplateRules},
		"serviceName":          allow, "podManagementPolicy": allow, "updateStrategy": allow,
		"revisionHistoryLimit": allow, "minReadySeconds": allow,
		"persistentVolumeClaimRetentionPolicy": allow, "ordinals": allow,
	},
	typeOf[appsv1.StatefulSetUpdateStrategy]():                       {"type": allow, "rollingUpdate": allow},
	typeOf[appsv1.RollingUpdateStatefulSetStrategy]():                {"partition": allow, "maxUnavailable": allow},
	typeOf[appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy](): {"whenDeleted": allow, "whenScaled": allow},
	typeOf[appsv1.StatefulSetOrdinals]():                             {"start": allow},
	typeOf[corev1.PodTemplateSpec]():                                 {"metadata": {fields: templateMetaRules}, "spec": allow},

	// Pods.
	typeOf[corev1.PodSpec](): {
		"volumes": allow, "initContainers": allow, "containers": allow,
		"restartPolicy": allow, "terminationGracePeriodSeconds": allow,
		"nodeSelector": allow, "affinity": allow, "hostNetwork": allow, "setHostnameAsFQDN": allow,
		"securityContext": allow, "shareProcessNamespace": allow,
		"topologySpreadConstraints":    allow,
		"tolerations":                  {verdict: warned, msg: noTaints},
		"serviceAccountName":           warn(noPodAPI),
		"serviceAccount":               warn(noPodAPI),
		"automountServiceAccountToken": warn(noPodAPI),
		"imagePullSecrets":             warn("images are pulled without credentials here; accepted without effect"),
		"priorityClassName":            warn(noPriorities),
		"priority":                     warn(noPriorities),
		"preemptionPolicy":             warn(noPriorities),
		"hostname":                     warn("a StatefulSet's pods are named after it; accepted without effect"),
		"subdomain":                    warn("a StatefulSet's pods take its serviceName as subdomain; accepted without effect"),
		"dnsPolicy": only(map[string]string{
			"ClusterFirst":            "pods resolve names through the cluster DNS already; " + noEffect,
			"ClusterFirstWithHostNet": "pods resolve names through the cluster DNS already; " + noEffect,
		}),
		"schedulerName":      only(map[string]string{"default-scheduler": "ordo places every pod; " + noEffect}),
		"enableServiceLinks": only(map[string]string{"false": "no service environment variables are set here; " + noEffect}),
		"hostUsers":          only(map[string]string{"true": "pods share the node's user namespace; " + noEffect}),
		"os":                 allow,
	},
	typeOf[corev1.PodOS](): {"name": only(map[string]string{"linux": "pods run on Linux; " + noEffect})},
	typeOf[corev1.Container](): {
		"name": allow, "image": allow, "command": allow, "args": allow, "workingDir": allow,
		"ports": allow, "envFrom": allow, "env": allow, "resources": allow, "volumeMounts": allow,
		"livenessProbe": allow, "readinessProbe": allow, "startupProbe": allow, "lifecycle": allow,
		"imagePullPolicy": allow, "securityContext": allow,
		"restartPolicy":            allow, // init containers only: checked by the conversion
		"terminationMessagePath":   warn("termination messages are not collected here; " + noEffect),
		"terminationMessagePolicy": warn("termination messages are not collected here; " + noEffect),
		"resizePolicy":             warn("resources are not resized in place here; " + noEffect),
	},
	typeOf[corev1.ContainerPort](): {"name": allow, "containerPort": allow, "protocol": allow, "hostPort": allow, "hostIP": allow},
	typeOf[corev1.EnvVar]():        {"name": allow, "value": allow, "valueFrom": allow},
	typeOf[corev1.EnvVarSource](): {
		"fieldRef": allow, "resourceFieldRef": allow, "configMapKeyRef": allow, "secretKeyRef": allow,
	},
	typeOf[corev1.ObjectFieldSelector]():   {"apiVersion": allow, "fieldPath": allow},
	typeOf[corev1.ResourceFieldSelector](): {"containerName": allow, "resource": allow, "divisor": allow},
	typeOf[corev1.ConfigMapKeySelector]():  {"key": allow, "optional": allow},
	typeOf[corev1.SecretKeySelector]():     {"key": allow, "optional": allow},
	typeOf[corev1.LocalObjectReference]():  {"name": allow},
	typeOf[corev1.EnvFromSource]():         {"prefix": allow, "configMapRef": allow, "secretRef": allow},
	typeOf[corev1.ConfigMapEnvSource]():    {"optional": allow},
	typeOf[corev1.SecretEnvSource]():       {"optional": allow},
	typeOf[corev1.ResourceRequirements]():  {"limits": allow, "requests": allow},
	typeOf[corev1.VolumeMount](): {
		"name": allow, "readOnly": allow, "mountPath": allow, "subPath": allow,
		"mountPropagation": only(map[string]string{"None": "mounts do not propagate here; " + noEffect}),
	},
	typeOf[corev1.Probe](): {
		"initialDelaySeconds": allow, "timeoutSeconds": allow, "periodSeconds": allow,
		"successThreshold": allow, "failureThreshold": allow,
	},
	typeOf[corev1.ProbeHandler]():     {"exec": allow, "httpGet": allow, "tcpSocket": allow, "grpc": allow},
	typeOf[corev1.ExecAction]():       {"command": allow},
	typeOf[corev1.HTTPGetAction]():    {"path": allow, "port": allow, "host": allow, "scheme": allow, "httpHeaders": allow},
	typeOf[corev1.HTTPHeader]():       {"name": allow, "value": allow},
	typeOf[corev1.TCPSocketAction]():  {"port": allow, "host": allow},
	typeOf[corev1.GRPCAction]():       {"port": allow, "service": allow},
	typeOf[corev1.Lifecycle]():        {"postStart": allow, "preStop": allow},
	typeOf[corev1.LifecycleHandler](): {"exec": allow, "httpGet": allow, "tcpSocket": allow, "sleep": allow},
	typeOf[corev1.SleepAction]():      {"seconds": allow},
	typeOf[corev1.SecurityContext](): {
		"capabilities": allow, "privileged": allow, "runAsUser": allow, "runAsGroup": allow,
		"runAsNonRoot": allow, "readOnlyRootFilesystem": allow, "allowPrivilegeEscalation": allow,
		"seccompProfile": allow,
		"procMount":      only(map[string]string{"Default": noEffect}),
	},
	typeOf[corev1.Capabilities]():   {"add": allow, "drop": allow},
	typeOf[corev1.SeccompProfile](): {"type": allow},
	typeOf[corev1.PodSecurityContext](): {
		"runAsUser": allow, "runAsGroup": allow, "runAsNonRoot": allow, "supplementalGroups": allow,
		"fsGroup": allow, "sysctls": allow, "seccompProfile": allow,
		"fsGroupChangePolicy":      warn(noEffect),
		"supplementalGroupsPolicy": only(map[string]string{"Merge": "the image's groups are kept, as with Merge; " + noEffect}),
	},
	typeOf[corev1.Sysctl]():                  {"name": allow, "value": allow},
	typeOf[corev1.Affinity]():                {"nodeAffinity": allow, "podAffinity": allow, "podAntiAffinity": allow},
	typeOf[corev1.NodeAffinity]():            {"requiredDuringSchedulingIgnoredDuringExecution": allow, "preferredDuringSchedulingIgnoredDuringExecution": allow},
	typeOf[corev1.NodeSelector]():            {"nodeSelectorTerms": allow},
	typeOf[corev1.NodeSelectorTerm]():        {"matchExpressions": allow},
	typeOf[corev1.NodeSelectorRequirement](): {"key": allow, "operator": allow, "values": allow},
	typeOf[corev1.PreferredSchedulingTerm](): {"weight": allow, "preference": allow},
	typeOf[corev1.PodAffinity]():             {"requiredDuringSchedulingIgnoredDuringExecution": allow, "preferredDuringSchedulingIgnoredDuringExecution": allow},
	typeOf[corev1.PodAntiAffinity]():         {"requiredDuringSchedulingIgnoredDuringExecution": allow, "preferredDuringSchedulingIgnoredDuringExecution": allow},
	typeOf[corev1.PodAffinityTerm]():         {"labelSelector": allow, "topologyKey": allow},
	typeOf[corev1.WeightedPodAffinityTerm](): {"weight": allow, "podAffinityTerm": allow},
	typeOf[corev1.Toleration]():              {"key": allow, "operator": allow, "value": allow, "effect": allow, "tolerationSeconds": allow},
	typeOf[corev1.TopologySpreadConstraint](): {
		"maxSkew": allow, "topologyKey": allow, "whenUnsatisfiable": allow, "labelSelector": allow,
	},

	// Pod volumes.
	typeOf[corev1.Volume](): {"name": allow},
	typeOf[corev1.VolumeSource](): {
		"hostPath": allow, "emptyDir": allow, "persistentVolumeClaim": allow,
		"configMap": allow, "secret": allow, "downwardAPI": allow, "projected": allow,
	},
	typeOf[corev1.HostPathVolumeSource]():              {"path": allow, "type": allow},
	typeOf[corev1.EmptyDirVolumeSource]():              {"medium": allow},
	typeOf[corev1.PersistentVolumeClaimVolumeSource](): {"claimName": allow, "readOnly": allow},
	typeOf[corev1.ConfigMapVolumeSource]():             {"items": allow, "defaultMode": allow, "optional": allow},
	typeOf[corev1.SecretVolumeSource]():                {"secretName": allow, "items": allow, "defaultMode": allow, "optional": allow},
	typeOf[corev1.KeyToPath]():                         {"key": allow, "path": allow, "mode": allow},
	typeOf[corev1.DownwardAPIVolumeSource]():           {"items": allow, "defaultMode": allow},
	typeOf[corev1.DownwardAPIVolumeFile]():             {"path": allow, "fieldRef": allow, "resourceFieldRef": allow, "mode": allow},
	typeOf[corev1.ProjectedVolumeSource]():             {"sources": allow, "defaultMode": allow},
	typeOf[corev1.VolumeProjection](): {
		"secret": allow, "configMap": allow, "downwardAPI": allow,
		"serviceAccountToken": refuse("field not supported: pods here have no API to present a token to"),
	},
	typeOf[corev1.SecretProjection]():      {"items": allow, "optional": allow},
	typeOf[corev1.ConfigMapProjection]():   {"items": allow, "optional": allow},
	typeOf[corev1.DownwardAPIProjection](): {"items": allow},

	// Claims, as objects and as a set's templates.
	typeOf[corev1.PersistentVolumeClaim](): objectRules("spec", rules{"apiVersion": allow, "kind": allow}),
	typeOf[corev1.PersistentVolumeClaimSpec](): {
		"accessModes": allow, "selector": allow, "resources": allow, "volumeName": allow,
		"storageClassName": allow, "volumeMode": allow,
	},
	typeOf[corev1.VolumeResourceRequirements](): {"requests": allow},

	// PersistentVolume and StorageClass.
	typeOf[corev1.PersistentVolume](): objectRules("spec", nil),
	typeOf[corev1.PersistentVolumeSpec](): {
		"capacity": allow, "accessModes": allow, "persistentVolumeReclaimPolicy": allow,
		"storageClassName": allow, "mountOptions": allow, "volumeMode": allow, "nodeAffinity": allow,
		"claimRef": warn("claims are bound by the scheduler; ignored"),
	},
	typeOf[corev1.PersistentVolumeSource](): {"local": allow, "hostPath": allow, "nfs": allow},
	typeOf[corev1.LocalVolumeSource]():      {"path": allow},
	typeOf[corev1.NFSVolumeSource]():        {"server": allow, "path": allow, "readOnly": allow},
	typeOf[corev1.VolumeNodeAffinity]():     {"required": allow},
	typeOf[storagev1.StorageClass](): {
		"metadata": {fields: objectMetaRules}, "provisioner": allow, "reclaimPolicy": allow,
		"mountOptions": allow, "volumeBindingMode": allow,
		"parameters":           warn("read only by a provisioner, and volumes are not provisioned here; " + noEffect),
		"allowVolumeExpansion": warn("claims are not expanded here; " + noEffect),
	},

	// Service.
	typeOf[corev1.Service](): objectRules("spec", nil),
	typeOf[corev1.ServiceSpec](): {
		"ports": allow, "selector": allow, "clusterIP": allow, "type": allow, "publishNotReadyAddresses": allow,
		"clusterIPs":            {byValue: clusterIPs},
		"sessionAffinity":       only(map[string]string{"None": "connections are not pinned to a pod here; " + noEffect}),
		"ipFamilies":            {byValue: ipFamilies},
		"ipFamilyPolicy":        only(map[string]string{"SingleStack": "services have IPv4 addresses only here; " + noEffect}),
		"internalTrafficPolicy": only(map[string]string{"Cluster": "traffic goes to the service's pods on every node; " + noEffect}),
	},
	typeOf[corev1.ServicePort](): {
		"name": allow, "protocol": allow, "port": allow, "targetPort": allow,
		"appProtocol": warn("read by no proxy here; " + noEffect),
	},

	// Configuration.
	typeOf[corev1.ConfigMap](): {
		"metadata": {fields: objectMetaRules}, "data": allow, "binaryData": allow, "immutable": allow,
	},
	typeOf[corev1.Secret](): {
		"metadata": {fields: objectMetaRules}, "data": allow, "stringData": allow, "type": allow, "immutable": allow,
	},
	typeOf[policyv1.PodDisruptionBudget]():     objectRules("spec", nil),
	typeOf[policyv1.PodDisruptionBudgetSpec](): {"minAvailable": allow, "maxUnavailable": allow, "selector": allow},
}

// leafTypes are structs that are values, not objects with fields.
var leafTypes = map[reflect.Type]bool{quantityType: true, intOrStringType: true, timeType: true}

// ipFamilies accepts [IPv4], the only family services have here.
func ipFamilies(v reflect.Value) (verdict, string) {
	fams := v.Interface().([]corev1.IPFamily)
	if len(fams) == 1 && fams[0] == corev1.IPv4Protocol {
		return warned, "services have IPv4 addresses only here; " + noEffect
	}
	return refused, fmt.Sprintf("%v is not supported (supported: [IPv4])", fams)
}

// clusterIPs accepts what `kubectl get -o yaml` writes: the one cluster IP.
// Whether it matches spec.clusterIP is checked by the conversion.
func clusterIPs(v reflect.Value) (verdict, string) {
	if v.Len() == 1 {
		return allowed, ""
	}
	return refused, "dual-stack services are not supported: give one address"
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

func typeOf[T any]() reflect.Type { return reflect.TypeOf((*T)(nil)).Elem() }

// checkFields reports the fields set in v (a struct), and under it, that
// the rules rs refuse or warn of.
func checkFields(r *report, path string, v reflect.Value, rs rules) {
	t := v.Type()
	for _, f := range structFields(t) {
		fv := v.FieldByIndex(f.index)
		if unset(fv) {
			continue
		}
		p := join(path, f.name)
		ru, ok := rs[f.name]
		if !ok && f.owner != t {
			ru, ok = fieldRules[f.owner][f.name] // a field of an inlined struct
		}
		verdict, msg := refused, ""
		if ok {
			verdict, msg = ru.verdict, ru.msg
			if ru.byValue != nil {
				verdict, msg = ru.byValue(fv)
			}
		}
		switch verdict {
		case refused:
			if msg == "" {
				msg = "field not supported"
			}
			r.errorf(p, "%s", msg)
		case warned:
			r.warnf(p, "%s", msg)
		default:
			descend(r, p, fv, ru.fields)
		}
	}
}

// descend checks the fields under an accepted value.
func descend(r *report, path string, v reflect.Value, override rules) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			descend(r, path, v.Elem(), override)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			descend(r, index(path, i), v.Index(i), override)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			descend(r, fmt.Sprintf("%s[%v]", path, k), v.MapIndex(k), override)
		}
	case reflect.Struct:
		if leafTypes[v.Type()] {
			return
		}
		rs := override
		if rs == nil {
			rs = fieldRules[v.Type()]
		}
		checkFields(r, path, v, rs)
	}
}

// unset says whether a field is absent: nil, empty or zero.
func unset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

func deref(v reflect.Value) reflect.Value {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return v
}
