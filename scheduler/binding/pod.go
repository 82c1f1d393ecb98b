package binding

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// PodVolume is one volume of a pod: a volume of its spec or one of its set's
// claim templates.
type PodVolume struct {
	Name     string
	Claim    string // claim name when the volume is a claim
	ReadOnly bool
	Template *ordov1.PersistentVolumeClaim // when from a claim template
	Source   *ordov1.Volume                // when a volume of the pod's spec
}

// PodVolumes lists the volumes a pod of set uses: its spec.volumes, then one
// per claim template of the set.
func PodVolumes(set *ordov1.StatefulSet, pod *ordov1.Pod) []PodVolume {
	var out []PodVolume
	for _, v := range pod.GetSpec().GetVolumes() {
		pv := PodVolume{Name: v.GetName(), Source: v}
		if c := v.GetPersistentVolumeClaim(); c != nil {
			pv.Claim, pv.ReadOnly = c.GetClaimName(), c.GetReadOnly()
		}
		out = append(out, pv)
	}
	for _, t := range set.GetSpec().GetVolumeClaimTemplates() {
		out = append(out, PodVolume{
			Name:     t.GetMetadata().GetName(),
			Claim:    identity.ClaimName(t.GetMetadata().GetName(), set.GetMetadata().GetName(), pod.GetOrdinal()),
			Template: t,
		})
	}
	return out
}

// HasClaims tells whether pods of set use any claim.
func HasClaims(set *ordov1.StatefulSet) bool {
	if len(set.GetSpec().GetVolumeClaimTemplates()) > 0 {
		return true
	}
	for _, v := range set.GetSpec().GetTemplate().GetSpec().GetVolumes() {
		if v.GetPersistentVolumeClaim() != nil {
			return true
		}
	}
	return false
}

// ClaimFromTemplate is the claim of ordinal for template t, as it is created.
func ClaimFromTemplate(set *ordov1.StatefulSet, t *ordov1.PersistentVolumeClaim, ordinal int32) *ordov1.PersistentVolumeClaim {
	setName := set.GetMetadata().GetName()
	labels := map[string]string{}
	for k, v := range set.GetSpec().GetSelector().GetMatchLabels() {
		labels[k] = v
	}
	for k, v := range t.GetMetadata().GetLabels() {
		labels[k] = v
	}
	labels[identity.LabelSet] = setName
	return &ordov1.PersistentVolumeClaim{
		Metadata: &ordov1.ObjectMeta{
			Name:        identity.ClaimName(t.GetMetadata().GetName(), setName, ordinal),
			Namespace:   set.GetMetadata().GetNamespace(),
			Labels:      labels,
			Annotations: t.GetMetadata().GetAnnotations(),
		},
		Spec:   proto.Clone(t.GetSpec()).(*ordov1.PersistentVolumeClaimSpec),
		Status: &ordov1.PersistentVolumeClaimStatus{Phase: PhasePending},
	}
}

// ClaimOrdinal is the ordinal of a claim <template>-<set>-<ordinal> of set.
func ClaimOrdinal(set *ordov1.StatefulSet, claim string) (int32, bool) {
	for _, t := range set.GetSpec().GetVolumeClaimTemplates() {
		prefix := t.GetMetadata().GetName() + "-" + set.GetMetadata().GetName() + "-"
		if rest, ok := strings.CutPrefix(claim, prefix); ok {
			n, err := strconv.ParseInt(rest, 10, 32)
			if err == nil && n >= 0 {
				return int32(n), true
			}
		}
	}
	return 0, false
}

// Assign chooses, for a pod placed on a node with nodeLabels, the volume of
// each of its unbound claims, leaving out volumes in taken (chosen for other
// pods of the same decision). Bound claims must have a volume the node may
// use. It returns claim name → chosen volume, or the reason the node cannot
// take the pod's claims.
func Assign(claims []Claim, pvs []*ordov1.PersistentVolume, classes []*ordov1.StorageClass, nodeLabels map[string]string, taken map[string]bool) (map[string]*ordov1.PersistentVolume, string) {
	var chosen map[string]*ordov1.PersistentVolume
	used := map[string]bool{}
	for _, cl := range claims {
		c := cl.Claim
		if cl.Volume != nil {
			if !NodeAllows(cl.Volume, nodeLabels) {
				return nil, "volume " + cl.Volume.GetMetadata().GetName() + " of claim " + c.GetMetadata().GetName() + " cannot be used on node " + nodeLabels[LabelHostname]
			}
			continue
		}
		if IsBound(c) {
			return nil, "claim " + c.GetMetadata().GetName() + " is bound to volume " + c.GetSpec().GetVolumeName() + ", which does not exist"
		}
		var free []*ordov1.PersistentVolume
		for _, pv := range pvs {
			if !taken[pv.GetMetadata().GetName()] && !used[pv.GetMetadata().GetName()] {
				free = append(free, pv)
			}
		}
		pv, why := Choose(c, free, classes, nodeLabels)
		if pv == nil {
			return nil, why
		}
		if chosen == nil {
			chosen = map[string]*ordov1.PersistentVolume{}
		}
		chosen[c.GetMetadata().GetName()] = pv
		used[pv.GetMetadata().GetName()] = true
	}
	return chosen, ""
}
