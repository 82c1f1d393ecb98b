package manifest

import (
	"encoding/json"
	"strconv"
)

// The structs below mirror the Kubernetes JSON field names of the objects ordo
// accepts. Every field Kubernetes defines that ordo does not implement is declared
// with the type unsupported, so that a manifest using it is rejected with
// "<path>: field not supported" rather than "unknown field". Fields of type ignored
// are server-written or purely informational and are accepted and dropped.

// unsupported marks a Kubernetes field that ordo does not implement.
type unsupported struct{}

func (*unsupported) UnmarshalJSON([]byte) error { return nil }

// ignored marks a field that has no behavioural meaning for ordo.
type ignored struct{}

func (*ignored) UnmarshalJSON([]byte) error { return nil }

// intOrString is a Kubernetes IntOrString (ports given by number or by name).
type intOrString struct {
	set   bool
	isStr bool
	i     int64
	s     string
}

func (x *intOrString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	x.set = true
	if len(b) > 0 && b[0] == '"' {
		x.isStr = true
		return json.Unmarshal(b, &x.s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	x.i = n
	return nil
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`

	// Written by a Kubernetes API server; meaningless on input.
	CreationTimestamp ignored `json:"creationTimestamp"`
	ResourceVersion   ignored `json:"resourceVersion"`
	UID               ignored `json:"uid"`
	Generation        ignored `json:"generation"`
	SelfLink          ignored `json:"selfLink"`
	ManagedFields     ignored `json:"managedFields"`

	GenerateName               unsupported `json:"generateName"`
	DeletionTimestamp          unsupported `json:"deletionTimestamp"`
	DeletionGracePeriodSeconds unsupported `json:"deletionGracePeriodSeconds"`
	OwnerReferences            unsupported `json:"ownerReferences"`
	Finalizers                 unsupported `json:"finalizers"`
}

type labelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

type labelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels"`
	MatchExpressions []labelSelectorRequirement `json:"matchExpressions"`
}

// ---------------------------------------------------------------- StatefulSet

type statefulSet struct {
	typeMeta
	Metadata objectMeta      `json:"metadata"`
	Spec     statefulSetSpec `json:"spec"`
	Status   ignored         `json:"status"`
}

type statefulSetSpec struct {
	Replicas             *int32          `json:"replicas"`
	Selector             *labelSelector  `json:"selector"`
	ServiceName          string          `json:"serviceName"`
	Template             podTemplateSpec `json:"template"`
	PodManagementPolicy  string          `json:"podManagementPolicy"`
	UpdateStrategy       *updateStrategy `json:"updateStrategy"`
	RevisionHistoryLimit *int32          `json:"revisionHistoryLimit"`
	MinReadySeconds      int32           `json:"minReadySeconds"`
	Ordinals             *ordinals       `json:"ordinals"`

	VolumeClaimTemplates                 []claimTemplate  `json:"volumeClaimTemplates"`
	PersistentVolumeClaimRetentionPolicy *retentionPolicy `json:"persistentVolumeClaimRetentionPolicy"`
}

type ordinals struct {
	Start int32 `json:"start"`
}

type updateStrategy struct {
	Type          string         `json:"type"`
	RollingUpdate *rollingUpdate `json:"rollingUpdate"`
}

type rollingUpdate struct {
	Partition      int32        `json:"partition"`
	MaxUnavailable *intOrString `json:"maxUnavailable"`
}

type podTemplateSpec struct {
	Metadata templateMeta `json:"metadata"`
	Spec     podSpec      `json:"spec"`
}

type templateMeta struct {
	Name              ignored           `json:"name"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	CreationTimestamp ignored           `json:"creationTimestamp"`

	Namespace       unsupported `json:"namespace"`
	GenerateName    unsupported `json:"generateName"`
	OwnerReferences unsupported `json:"ownerReferences"`
	Finalizers      unsupported `json:"finalizers"`
}

type podSpec struct {
	Containers                    []container       `json:"containers"`
	RestartPolicy                 string            `json:"restartPolicy"`
	NodeSelector                  map[string]string `json:"nodeSelector"`
	Affinity                      *affinity         `json:"affinity"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds"`

	Volumes                      []podVolume `json:"volumes"`
	InitContainers               unsupported `json:"initContainers"`
	EphemeralContainers          unsupported `json:"ephemeralContainers"`
	ActiveDeadlineSeconds        unsupported `json:"activeDeadlineSeconds"`
	DNSPolicy                    unsupported `json:"dnsPolicy"`
	DNSConfig                    unsupported `json:"dnsConfig"`
	ServiceAccountName           unsupported `json:"serviceAccountName"`
	ServiceAccount               unsupported `json:"serviceAccount"`
	AutomountServiceAccountToken unsupported `json:"automountServiceAccountToken"`
	NodeName                     unsupported `json:"nodeName"`
	HostNetwork                  bool        `json:"hostNetwork"`
	HostPID                      unsupported `json:"hostPID"`
	HostIPC                      unsupported `json:"hostIPC"`
	HostUsers                    unsupported `json:"hostUsers"`
	ShareProcessNamespace        unsupported `json:"shareProcessNamespace"`
	SecurityContext              unsupported `json:"securityContext"`
	ImagePullSecrets             unsupported `json:"imagePullSecrets"`
	Hostname                     unsupported `json:"hostname"`
	Subdomain                    unsupported `json:"subdomain"`
	SchedulerName                unsupported `json:"schedulerName"`
	Tolerations                  unsupported `json:"tolerations"`
	HostAliases                  unsupported `json:"hostAliases"`
	PriorityClassName            unsupported `json:"priorityClassName"`
	Priority                     unsupported `json:"priority"`
	ReadinessGates               unsupported `json:"readinessGates"`
	RuntimeClassName             unsupported `json:"runtimeClassName"`
	EnableServiceLinks           unsupported `json:"enableServiceLinks"`
	PreemptionPolicy             unsupported `json:"preemptionPolicy"`
	Overhead                     unsupported `json:"overhead"`
	TopologySpreadConstraints    unsupported `json:"topologySpreadConstraints"`
	SetHostnameAsFQDN            bool        `json:"setHostnameAsFQDN"`
	OS                           unsupported `json:"os"`
	SchedulingGates              unsupported `json:"schedulingGates"`
	ResourceClaims               unsupported `json:"resourceClaims"`
	Resources                    unsupported `json:"resources"`
	HostnameOverride             unsupported `json:"hostnameOverride"`
}

type affinity struct {
	NodeAffinity    *nodeAffinity    `json:"nodeAffinity"`
	PodAntiAffinity *podAntiAffinity `json:"podAntiAffinity"`

	PodAffinity unsupported `json:"podAffinity"`
}

type nodeAffinity struct {
	Required *nodeSelector `json:"requiredDuringSchedulingIgnoredDuringExecution"`

	Preferred unsupported `json:"preferredDuringSchedulingIgnoredDuringExecution"`
}

type nodeSelector struct {
	NodeSelectorTerms []nodeSelectorTerm `json:"nodeSelectorTerms"`
}

type nodeSelectorTerm struct {
	MatchExpressions []labelSelectorRequirement `json:"matchExpressions"`

	MatchFields unsupported `json:"matchFields"`
}

type podAntiAffinity struct {
	Required []podAffinityTerm `json:"requiredDuringSchedulingIgnoredDuringExecution"`

	Preferred unsupported `json:"preferredDuringSchedulingIgnoredDuringExecution"`
}

type podAffinityTerm struct {
	LabelSelector *labelSelector `json:"labelSelector"`
	TopologyKey   string         `json:"topologyKey"`

	Namespaces        unsupported `json:"namespaces"`
	NamespaceSelector unsupported `json:"namespaceSelector"`
	MatchLabelKeys    unsupported `json:"matchLabelKeys"`
	MismatchLabelKeys unsupported `json:"mismatchLabelKeys"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`

	ValueFrom unsupported `json:"valueFrom"`
}

type containerPort struct {
	Name          string `json:"name"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`

	HostPort unsupported `json:"hostPort"`
	HostIP   unsupported `json:"hostIP"`
}

type container struct {
	Name            string          `json:"name"`
	Image           string          `json:"image"`
	Command         []string        `json:"command"`
	Args            []string        `json:"args"`
	Env             []envVar        `json:"env"`
	WorkingDir      string          `json:"workingDir"`
	Ports           []containerPort `json:"ports"`
	ReadinessProbe  *probe          `json:"readinessProbe"`
	LivenessProbe   *probe          `json:"livenessProbe"`
	StartupProbe    *probe          `json:"startupProbe"`
	ImagePullPolicy string          `json:"imagePullPolicy"`

	Resources                unsupported   `json:"resources"`
	ResizePolicy             unsupported   `json:"resizePolicy"`
	RestartPolicy            unsupported   `json:"restartPolicy"`
	RestartPolicyRules       unsupported   `json:"restartPolicyRules"`
	VolumeMounts             []volumeMount `json:"volumeMounts"`
	VolumeDevices            unsupported   `json:"volumeDevices"`
	EnvFrom                  unsupported   `json:"envFrom"`
	Lifecycle                unsupported   `json:"lifecycle"`
	SecurityContext          unsupported   `json:"securityContext"`
	Stdin                    unsupported   `json:"stdin"`
	StdinOnce                unsupported   `json:"stdinOnce"`
	TTY                      unsupported   `json:"tty"`
	TerminationMessagePath   unsupported   `json:"terminationMessagePath"`
	TerminationMessagePolicy unsupported   `json:"terminationMessagePolicy"`
}

type probe struct {
	Exec      *execAction      `json:"exec"`
	HTTPGet   *httpGetAction   `json:"httpGet"`
	TCPSocket *tcpSocketAction `json:"tcpSocket"`
	GRPC      *grpcAction      `json:"grpc"`

	// Seconds; fractions allowed (0.2 = 200 ms).
	InitialDelaySeconds *float64 `json:"initialDelaySeconds"`
	PeriodSeconds       *float64 `json:"periodSeconds"`
	TimeoutSeconds      *float64 `json:"timeoutSeconds"`
	SuccessThreshold    *int32   `json:"successThreshold"`
	FailureThreshold    *int32   `json:"failureThreshold"`

	TerminationGracePeriodSeconds unsupported `json:"terminationGracePeriodSeconds"`
}

type execAction struct {
	Command []string `json:"command"`
}

type httpHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type httpGetAction struct {
	Path        string       `json:"path"`
	Port        intOrString  `json:"port"`
	Host        string       `json:"host"`
	Scheme      string       `json:"scheme"`
	HTTPHeaders []httpHeader `json:"httpHeaders"`
}

type tcpSocketAction struct {
	Port intOrString `json:"port"`
	Host string      `json:"host"`
}

type grpcAction struct {
	Port    int32   `json:"port"`
	Service *string `json:"service"`
}

// ---------------------------------------------------------------- Service

type service struct {
	typeMeta
	Metadata objectMeta  `json:"metadata"`
	Spec     serviceSpec `json:"spec"`
	Status   ignored     `json:"status"`
}

type serviceSpec struct {
	Type                     string            `json:"type"`
	ClusterIP                string            `json:"clusterIP"`
	Selector                 map[string]string `json:"selector"`
	Ports                    []servicePort     `json:"ports"`
	PublishNotReadyAddresses bool              `json:"publishNotReadyAddresses"`

	ClusterIPs                    unsupported `json:"clusterIPs"`
	ExternalIPs                   unsupported `json:"externalIPs"`
	SessionAffinity               unsupported `json:"sessionAffinity"`
	SessionAffinityConfig         unsupported `json:"sessionAffinityConfig"`
	LoadBalancerIP                unsupported `json:"loadBalancerIP"`
	LoadBalancerSourceRanges      unsupported `json:"loadBalancerSourceRanges"`
	LoadBalancerClass             unsupported `json:"loadBalancerClass"`
	ExternalName                  unsupported `json:"externalName"`
	ExternalTrafficPolicy         unsupported `json:"externalTrafficPolicy"`
	InternalTrafficPolicy         unsupported `json:"internalTrafficPolicy"`
	HealthCheckNodePort           unsupported `json:"healthCheckNodePort"`
	IPFamilies                    unsupported `json:"ipFamilies"`
	IPFamilyPolicy                unsupported `json:"ipFamilyPolicy"`
	AllocateLoadBalancerNodePorts unsupported `json:"allocateLoadBalancerNodePorts"`
	TrafficDistribution           unsupported `json:"trafficDistribution"`
}

type servicePort struct {
	Name       string      `json:"name"`
	Port       int32       `json:"port"`
	TargetPort intOrString `json:"targetPort"`
	Protocol   string      `json:"protocol"`

	NodePort    unsupported `json:"nodePort"`
	AppProtocol unsupported `json:"appProtocol"`
}
