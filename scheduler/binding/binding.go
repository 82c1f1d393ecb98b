// Package binding decides which PersistentVolume a PersistentVolumeClaim binds
// to, and on which nodes a pod's claims let it run. Everything here is a pure
// function of the objects it is given.
//
// A claim binds to the smallest Available volume that satisfies it:
//
//   - the same storage class: the claim's storageClassName when given (even
//     ""), else the default class ("" when there is none);
//   - every access mode the claim asks for;
//   - at least the requested capacity;
//   - the claim's label selector (matchLabels and matchExpressions);
//   - when a node is given (WaitForFirstConsumer, or a pod that is being
//     placed), the volume's node affinity admits that node;
//   - a claim naming a volume (spec.volumeName) only binds to it, and a volume
//     reserved for a claim (claimRef) only to that claim.
//
// Ties are broken by name, so the choice is stable.
package binding

import (
	"fmt"
	lsel "github.com/ordoproject/ordo/internal/labels"
	"slices"
	"sort"
	"strings"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Phases of volumes and claims.
const (
	PhaseAvailable = "Available"
	PhaseBound     = "Bound"
	PhaseReleased  = "Released"
	PhaseFailed    = "Failed"
	PhasePending   = "Pending"
)

// Binding modes of storage classes.
const (
	Immediate            = "Immediate"
	WaitForFirstConsumer = "WaitForFirstConsumer"
)

// LabelHostname is the node label every node carries with its own name.
const LabelHostname = "kubernetes.io/hostname"

// ClassOf is the class a claim asks for: its own storageClassName when set
// (even ""), else the default class, else "".
func ClassOf(c *ordov1.PersistentVolumeClaim, classes []*ordov1.StorageClass) string {
	if c.GetSpec().GetStorageClassSet() || c.GetSpec().GetStorageClassName() != "" {
		return c.GetSpec().GetStorageClassName()
	}
	if d := DefaultClass(classes); d != nil {
		return d.GetMetadata().GetName()
	}
	return ""
}

// DefaultClass is the class marked default; with several, the one first by
// name. Nil when none is.
func DefaultClass(classes []*ordov1.StorageClass) *ordov1.StorageClass {
	var best *ordov1.StorageClass
	for _, c := range classes {
		if c.GetIsDefault() && (best == nil || c.GetMetadata().GetName() < best.GetMetadata().GetName()) {
			best = c
		}
	}
	return best
}

// Mode is the binding mode of class name: WaitForFirstConsumer only when the
// class exists and says so.
func Mode(name string, classes []*ordov1.StorageClass) string {
	for _, c := range classes {
		if c.GetMetadata().GetName() == name && c.GetVolumeBindingMode() == WaitForFirstConsumer {
			return WaitForFirstConsumer
		}
	}
	return Immediate
}

// IsBound reports whether the claim is bound to a volume.
func IsBound(c *ordov1.PersistentVolumeClaim) bool {
	return c.GetStatus().GetPhase() == PhaseBound && c.GetSpec().GetVolumeName() != ""
}

// available: the volume is free for c (Available, or reserved for c).
func available(pv *ordov1.PersistentVolume, c *ordov1.PersistentVolumeClaim) bool {
	ref := pv.GetSpec().GetClaimRef()
	if ref == nil {
		phase := pv.GetStatus().GetPhase()
		return phase == "" || phase == PhaseAvailable
	}
	if ref.GetNamespace() != c.GetMetadata().GetNamespace() || ref.GetName() != c.GetMetadata().GetName() {
		return false
	}
	// A volume released by an earlier claim of the same name stays Released.
	return ref.GetUid() == "" || ref.GetUid() == c.GetMetadata().GetUid()
}

// Satisfies reports whether pv can serve claim c of class class, ignoring
// whether it is free and where it is.
func Satisfies(pv *ordov1.PersistentVolume, c *ordov1.PersistentVolumeClaim, class string) bool {
	s, cs := pv.GetSpec(), c.GetSpec()
	if s.GetStorageClassName() != class {
		return false
	}
	if v := cs.GetVolumeName(); v != "" && v != pv.GetMetadata().GetName() {
		return false
	}
	for _, m := range cs.GetAccessModes() {
		if !slices.Contains(s.GetAccessModes(), m) {
			return false
		}
	}
	if s.GetCapacityBytes() < cs.GetStorageBytes() {
		return false
	}
	return lsel.SelectorMatches(cs.GetSelector(), pv.GetMetadata().GetLabels())
}

// NodeAllows reports whether pv can be used on a node with these labels. A
// volume without node affinity can be used anywhere.
func NodeAllows(pv *ordov1.PersistentVolume, nodeLabels map[string]string) bool {
	terms := pv.GetSpec().GetNodeAffinityRequired()
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		if lsel.TermMatches(t, nodeLabels) {
			return true
		}
	}
	return false
}

// Candidates are the free volumes that satisfy c, smallest first, then by name.
func Candidates(c *ordov1.PersistentVolumeClaim, pvs []*ordov1.PersistentVolume, classes []*ordov1.StorageClass) []*ordov1.PersistentVolume {
	class := ClassOf(c, classes)
	var out []*ordov1.PersistentVolume
	for _, pv := range pvs {
		if pv.GetMetadata().GetDeletionTime() == nil && available(pv, c) && Satisfies(pv, c, class) {
			out = append(out, pv)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].GetSpec().GetCapacityBytes(), out[j].GetSpec().GetCapacityBytes()
		if a != b {
			return a < b
		}
		return out[i].GetMetadata().GetName() < out[j].GetMetadata().GetName()
	})
	return out
}

// Choose picks the volume claim c binds to: the smallest candidate, and, when
// nodeLabels is not nil, one whose node affinity admits that node. Nil and
// the reason when there is none.
func Choose(c *ordov1.PersistentVolumeClaim, pvs []*ordov1.PersistentVolume, classes []*ordov1.StorageClass, nodeLabels map[string]string) (*ordov1.PersistentVolume, string) {
	cands := Candidates(c, pvs, classes)
	for _, pv := range cands {
		if nodeLabels == nil || NodeAllows(pv, nodeLabels) {
			return pv, ""
		}
	}
	if len(cands) > 0 {
		return nil, fmt.Sprintf("no PersistentVolume for claim %s on node %s: %s", c.GetMetadata().GetName(), nodeLabels[LabelHostname], Needs(c, classes))
	}
	return nil, fmt.Sprintf("no PersistentVolume for claim %s: %s", c.GetMetadata().GetName(), Needs(c, classes))
}

// Needs describes what claim c asks for: "needs 1Gi RWO class local-storage".
func Needs(c *ordov1.PersistentVolumeClaim, classes []*ordov1.StorageClass) string {
	var modes []string
	for _, m := range c.GetSpec().GetAccessModes() {
		modes = append(modes, shortMode(m))
	}
	s := "needs " + c.GetSpec().GetStorage() + " " + strings.Join(modes, ",")
	if class := ClassOf(c, classes); class != "" {
		s += " class " + class
	} else {
		s += " without a class"
	}
	if sel := c.GetSpec().GetSelector(); len(sel.GetMatchLabels()) > 0 || len(sel.GetMatchExpressions()) > 0 {
		s += " matching its selector"
	}
	if v := c.GetSpec().GetVolumeName(); v != "" {
		s += " (volume " + v + ")"
	}
	return s + provisionerNote(ClassOf(c, classes), classes)
}

// NoProvisioner is the provisioner of classes whose volumes are made by hand.
const NoProvisioner = "kubernetes.io/no-provisioner"

// provisionerNote says why no volume will appear by itself for a class:
// it does not exist, or its provisioner is not one ordo runs.
func provisionerNote(class string, classes []*ordov1.StorageClass) string {
	if class == "" {
		return ""
	}
	for _, sc := range classes {
		if sc.GetMetadata().GetName() != class {
			continue
		}
		if p := sc.GetProvisioner(); p != "" && p != NoProvisioner {
			return fmt.Sprintf("; storageclass %s names provisioner %s, which ordo does not run: create a PersistentVolume of that class", class, p)
		}
		return ""
	}
	return fmt.Sprintf("; storageclass %q not found", class)
}

func shortMode(m string) string {
	switch m {
	case "ReadWriteOnce":
		return "RWO"
	case "ReadOnlyMany":
		return "ROX"
	case "ReadWriteMany":
		return "RWX"
	case "ReadWriteOncePod":
		return "RWOP"
	}
	return m
}

// Claim is one claim a pod uses, as it exists in the store or, for a claim
// template whose claim is not created yet, as it will be (Claim has no uid and
// no status then).
type Claim struct {
	Claim *ordov1.PersistentVolumeClaim
	// Volume is the volume the claim is bound to, nil when unbound.
	Volume *ordov1.PersistentVolume
}

// Nodes says where a pod with these claims can run. allowed is nil when any
// node will do. When no node can, reason says why in words a person can act on
// ("no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage").
//
// A bound claim admits the nodes its volume's node affinity admits. An unbound
// claim admits the nodes of its candidate volumes: with WaitForFirstConsumer it
// is bound at placement by design; with Immediate it is a claim that has only
// just been created from its template together with the pod (or whose volume
// appeared since), and binding it at placement is binding it at once.
func Nodes(claims []Claim, pvs []*ordov1.PersistentVolume, classes []*ordov1.StorageClass, nodes []*ordov1.NodeInfo) (allowed map[string]bool, reason string) {
	for _, cl := range claims {
		c := cl.Claim
		var vols []*ordov1.PersistentVolume
		switch {
		case cl.Volume != nil:
			vols = []*ordov1.PersistentVolume{cl.Volume}
		case IsBound(c):
			return map[string]bool{}, fmt.Sprintf("claim %s is bound to volume %s, which does not exist", c.GetMetadata().GetName(), c.GetSpec().GetVolumeName())
		default:
			vols = Candidates(c, pvs, classes)
			if len(vols) == 0 {
				return map[string]bool{}, fmt.Sprintf("no PersistentVolume for claim %s: %s", c.GetMetadata().GetName(), Needs(c, classes))
			}
		}
		ok := map[string]bool{}
		unrestricted := false
		for _, pv := range vols {
			if len(pv.GetSpec().GetNodeAffinityRequired()) == 0 {
				unrestricted = true
				break
			}
			for _, n := range nodes {
				if NodeAllows(pv, NodeLabels(n)) {
					ok[n.GetMetadata().GetName()] = true
				}
			}
		}
		if unrestricted {
			continue
		}
		if allowed == nil {
			allowed = ok
		} else {
			for n := range allowed {
				if !ok[n] {
					delete(allowed, n)
				}
			}
		}
		if len(allowed) == 0 {
			if cl.Volume != nil {
				return allowed, fmt.Sprintf("volume %s of claim %s is pinned to a node that is not registered", cl.Volume.GetMetadata().GetName(), c.GetMetadata().GetName())
			}
			return allowed, fmt.Sprintf("no PersistentVolume for claim %s on a registered node: %s", c.GetMetadata().GetName(), Needs(c, classes))
		}
	}
	return allowed, ""
}

// NodeLabels are the node's labels, always including kubernetes.io/hostname.
func NodeLabels(n *ordov1.NodeInfo) map[string]string {
	l := n.GetMetadata().GetLabels()
	if _, ok := l[LabelHostname]; ok {
		return l
	}
	out := make(map[string]string, len(l)+1)
	for k, v := range l {
		out[k] = v
	}
	out[LabelHostname] = n.GetMetadata().GetName()
	return out
}

// PinnedNode is the node a volume's affinity names by hostname (the node
// whose agent holds a local volume's data), or "".
func PinnedNode(pv *ordov1.PersistentVolume) string {
	for _, t := range pv.GetSpec().GetNodeAffinityRequired() {
		for _, e := range t.GetMatchExpressions() {
			if e.GetKey() == LabelHostname && e.GetOperator() == "In" && len(e.GetValues()) == 1 {
				return e.GetValues()[0]
			}
		}
	}
	return ""
}
