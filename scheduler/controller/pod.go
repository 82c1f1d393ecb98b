package controller

import (
	"hash/fnv"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// hashAlphabet is the alphabet Kubernetes uses for revision hashes: no vowels
// (no accidental words) and no characters that are easily confused.
const hashAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// hashLen is the number of characters of a revision hash.
const hashLen = 10

// Revision is the controller-revision-hash of the set's pod template,
// "<set>-<hash>". Equal templates give equal revisions; any change of the
// template (image, command, labels, probes, ...) gives a different one.
func Revision(set *ordov1.StatefulSet) string {
	return identity.RevisionName(set.GetMetadata().GetName(), templateHash(set.GetSpec().GetTemplate()))
}

func templateHash(t *ordov1.PodTemplate) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		// A template that cannot be marshalled cannot be stored either; hash its
		// text form so the result stays a function of the template.
		b = []byte(t.String())
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	v := h.Sum64()
	out := make([]byte, hashLen)
	for i := range out {
		out[i] = hashAlphabet[v%uint64(len(hashAlphabet))]
		v /= uint64(len(hashAlphabet))
	}
	return string(out)
}

// NewPod builds ordinal's pod of set on the given revision: labels of the
// template plus the StatefulSet pod labels, a copy of the template's spec with
// hostname = pod name and subdomain = the set's service name, phase Pending.
// It is not bound to a node and its epoch is 0: the caller assigns the epoch
// when it stores the pod.
func NewPod(set *ordov1.StatefulSet, ordinal int32, revision string) *ordov1.Pod {
	setName := set.GetMetadata().GetName()
	name := identity.PodName(setName, ordinal)
	tmpl := set.GetSpec().GetTemplate()

	labels := make(map[string]string, len(tmpl.GetMetadata().GetLabels())+3)
	for k, v := range tmpl.GetMetadata().GetLabels() {
		labels[k] = v
	}
	labels[identity.LabelPodName] = name
	labels[identity.LabelPodIndex] = strconv.FormatInt(int64(ordinal), 10)
	labels[identity.LabelRevisionHash] = revision

	var annotations map[string]string
	if a := tmpl.GetMetadata().GetAnnotations(); len(a) > 0 {
		annotations = make(map[string]string, len(a))
		for k, v := range a {
			annotations[k] = v
		}
	}

	spec := &ordov1.PodSpec{}
	if s := tmpl.GetSpec(); s != nil {
		spec = proto.Clone(s).(*ordov1.PodSpec)
	}
	spec.Hostname = name
	spec.Subdomain = set.GetSpec().GetServiceName()

	return &ordov1.Pod{
		Metadata: &ordov1.ObjectMeta{
			Name:        name,
			Namespace:   namespaceOf(set.GetMetadata()),
			Labels:      labels,
			Annotations: annotations,
		},
		Spec:     spec,
		SetName:  setName,
		Ordinal:  ordinal,
		Revision: revision,
		Status:   &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING},
	}
}

func namespaceOf(m *ordov1.ObjectMeta) string {
	if ns := m.GetNamespace(); ns != "" {
		return ns
	}
	return identity.DefaultNamespace
}
