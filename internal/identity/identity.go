// Package identity is the one place that names things: pods from ordinals,
// ordinals from pods, container IDs, and the labels ordo puts on pods and containers.
package identity

import (
	"fmt"
	"strconv"
	"strings"
)

// Labels Kubernetes puts on every StatefulSet pod.
const (
	LabelPodName      = "statefulset.kubernetes.io/pod-name"
	LabelPodIndex     = "apps.kubernetes.io/pod-index"
	LabelRevisionHash = "controller-revision-hash"
)

// Labels ordo puts on every container it creates in containerd.
const (
	LabelManaged   = "ordo.dev/managed" // "true"
	LabelNamespace = "ordo.dev/namespace"
	LabelSet       = "ordo.dev/set"
	LabelPod       = "ordo.dev/pod"
	LabelOrdinal   = "ordo.dev/ordinal"
	LabelRevision  = "ordo.dev/revision"
	LabelEpoch     = "ordo.dev/epoch"
	LabelContainer = "ordo.dev/container"
	LabelNode      = "ordo.dev/node"
)

// DefaultNamespace is the namespace of objects that name none.
const DefaultNamespace = "default"

// PodName is the name of ordinal ord of set: "web", 2 -> "web-2".
func PodName(set string, ord int32) string {
	return set + "-" + strconv.FormatInt(int64(ord), 10)
}

// ParseOrdinal splits a pod name into its set and ordinal: "web-2" -> "web", 2.
func ParseOrdinal(pod string) (set string, ord int32, err error) {
	i := strings.LastIndexByte(pod, '-')
	if i <= 0 || i == len(pod)-1 || pod[i-1] == '-' {
		return "", 0, fmt.Errorf("pod name %q has no ordinal suffix", pod)
	}
	n, err := strconv.ParseInt(pod[i+1:], 10, 32)
	if err != nil || n < 0 || (len(pod[i+1:]) > 1 && pod[i+1] == '0') {
		return "", 0, fmt.Errorf("pod name %q has no ordinal suffix", pod)
	}
	return pod[:i], int32(n), nil
}

// ContainerID is the containerd container ID of one container of a pod, readable in
// `ctr -n ordo containers ls`: "web-0_nginx" (namespace "default"), "db-1_pg.team-a" otherwise.
func ContainerID(namespace, pod, container string) string {
	id := pod + "_" + container
	if namespace != "" && namespace != DefaultNamespace {
		id += "." + namespace
	}
	return id
}

// RevisionName is the name of a set's revision: "web-7c9f8d6b5".
func RevisionName(set, hash string) string { return set + "-" + hash }

// NamespaceOr is ns, or the default namespace when ns is empty.
func NamespaceOr(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// ClaimName is the claim of a set's ordinal for a claim template:
// "www", "web", 0 -> "www-web-0".
func ClaimName(template, set string, ord int32) string {
	return template + "-" + PodName(set, ord)
}
