package scheduler

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// Storage in the scheduler:
//
//	claim templates → claims <template>-<set>-<ordinal> (created with the pod, kept for later incarnations)
//	claims → volumes (binding.Choose: at once for Immediate classes, with the pod's placement for WaitForFirstConsumer)
//	pod on a node → Pod.resolved_volumes (what the agent mounts)
//	claim deleted → volume Released (Retain) or removed (Delete; a local volume's data is removed by its node's agent first)

// reasonCleanup marks a volume whose data its node's agent is asked to remove.
const reasonCleanup = "VolumeCleanup"

// podVolume is one volume of a pod: a pod volume or a claim template.
type podVolume struct {
	name     string
	claim    string // claim name when the volume is a claim
	readOnly bool
	template *ordov1.PersistentVolumeClaim // when from a claim template
	source   *ordov1.Volume                // when a pod volume
}

// ClaimName is the claim of a set's ordinal for a template: www-web-0.
func ClaimName(template, set string, ordinal int32) string {
	return template + "-" + identity.PodName(set, ordinal)
}

// podVolumes lists the volumes a pod of set uses: its spec.volumes, then one
// per claim template of the set.
func podVolumes(set *ordov1.StatefulSet, pod *ordov1.Pod) []podVolume {
	var out []podVolume
	for _, v := range pod.GetSpec().GetVolumes() {
		pv := podVolume{name: v.GetName(), source: v}
		if c := v.GetPersistentVolumeClaim(); c != nil {
			pv.claim, pv.readOnly = c.GetClaimName(), c.GetReadOnly()
		}
		out = append(out, pv)
	}
	for _, t := range set.GetSpec().GetVolumeClaimTemplates() {
		out = append(out, podVolume{name: t.GetMetadata().GetName(), claim: ClaimName(t.GetMetadata().GetName(), set.GetMetadata().GetName(), pod.GetOrdinal()), template: t})
	}
	return out
}

// claimFromTemplate is the claim of ordinal for template t, as it is created.
func claimFromTemplate(set *ordov1.StatefulSet, t *ordov1.PersistentVolumeClaim, ordinal int32) *ordov1.PersistentVolumeClaim {
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
			Name:        ClaimName(t.GetMetadata().GetName(), setName, ordinal),
			Namespace:   set.GetMetadata().GetNamespace(),
			Labels:      labels,
			Annotations: t.GetMetadata().GetAnnotations(),
		},
		Spec:   proto.Clone(t.GetSpec()).(*ordov1.PersistentVolumeClaimSpec),
		Status: &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhasePending},
	}
}

// claimReader is what the volume logic reads: the store or a transaction.
type claimReader interface {
	PersistentVolume(name string) *ordov1.PersistentVolume
	PersistentVolumeClaim(ns, name string) *ordov1.PersistentVolumeClaim
}

var (
	_ claimReader = (*Store)(nil)
	_ claimReader = (*Tx)(nil)
)

// podClaims are the claims a pod of set uses, as they exist or (templates
// whose claim is not created yet) as they will be. A pod volume naming a
// claim that does not exist makes missing say so.
func podClaims(r claimReader, set *ordov1.StatefulSet, pod *ordov1.Pod) (claims []binding.Claim, missing string) {
	ns := pod.GetMetadata().GetNamespace()
	for _, v := range podVolumes(set, pod) {
		if v.claim == "" {
			continue
		}
		c := r.PersistentVolumeClaim(ns, v.claim)
		if c == nil {
			if v.template == nil {
				return nil, fmt.Sprintf("persistentvolumeclaim %q not found", v.claim)
			}
			c = claimFromTemplate(set, v.template, pod.GetOrdinal())
		}
		cl := binding.Claim{Claim: c}
		if binding.IsBound(c) {
			cl.Volume = r.PersistentVolume(c.GetSpec().GetVolumeName())
		}
		claims = append(claims, cl)
	}
	return claims, ""
}

// nodeFilters computes, for every ordinal of set in range, where its pod may
// go given its claims. Sets without volume claims get none.
func nodeFilters(s *Store, set *ordov1.StatefulSet, replicas int32, nodes []*ordov1.NodeInfo) map[string]controller.NodeFilter {
	spec := set.GetSpec()
	hasClaims := len(spec.GetVolumeClaimTemplates()) > 0
	for _, v := range spec.GetTemplate().GetSpec().GetVolumes() {
		if v.GetPersistentVolumeClaim() != nil {
			hasClaims = true
		}
	}
	if !hasClaims {
		return nil
	}
	pvs, classes := s.PersistentVolumes(), s.StorageClasses()
	out := map[string]controller.NodeFilter{}
	for o := spec.GetOrdinalsStart(); o < spec.GetOrdinalsStart()+replicas; o++ {
		pod := controller.NewPod(set, o, "")
		claims, missing := podClaims(s, set, pod)
		if missing != "" {
			out[pod.GetMetadata().GetName()] = controller.NodeFilter{Nodes: map[string]bool{}, Reason: missing}
			continue
		}
		allowed, why := binding.Nodes(claims, pvs, classes, nodes)
		if allowed != nil {
			out[pod.GetMetadata().GetName()] = controller.NodeFilter{Nodes: allowed, Reason: why}
		}
	}
	return out
}

// prepareVolumes runs when pod is put on node (created there or bound): the
// claims of its templates are created when missing, its unbound claims are
// bound to volumes usable on node, and its volumes are resolved for the
// agent. It changes pod in place; the error says why the pod cannot go there.
func prepareVolumes(tx *Tx, log *slog.Logger, set *ordov1.StatefulSet, pod *ordov1.Pod, node string) error {
	ns := pod.GetMetadata().GetNamespace()
	pod.ResolvedVolumes = nil
	var labels map[string]string
	if n := tx.Node(node); n != nil {
		labels = binding.NodeLabels(n)
	} else if node != "" {
		labels = map[string]string{binding.LabelHostname: node}
	}
	pvs, classes := tx.PersistentVolumes(), tx.StorageClasses()
	for _, v := range podVolumes(set, pod) {
		rv := &ordov1.ResolvedVolume{Name: v.name}
		if v.claim == "" {
			rv.HostPath = v.source.GetHostPath()
			rv.EmptyDir = v.source.GetEmptyDir()
			pod.ResolvedVolumes = append(pod.ResolvedVolumes, rv)
			continue
		}
		c := tx.PersistentVolumeClaim(ns, v.claim)
		if c == nil {
			if v.template == nil {
				return &placementError{fmt.Sprintf("persistentvolumeclaim %q not found", v.claim)}
			}
			created, err := tx.PutPersistentVolumeClaim(claimFromTemplate(set, v.template, pod.GetOrdinal()))
			if err != nil {
				return err
			}
			c = created
			log.Info("claim created", "claim", c.GetMetadata().GetName(), "namespace", ns, "pod", pod.GetMetadata().GetName())
			if err := tx.Record(KindStatefulSet, ns, set.GetMetadata().GetName(), "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", c.GetMetadata().GetName(), pod.GetMetadata().GetName(), set.GetMetadata().GetName()); err != nil {
				return err
			}
		}
		if node == "" {
			continue
		}
		var vol *ordov1.PersistentVolume
		if binding.IsBound(c) {
			vol = tx.PersistentVolume(c.GetSpec().GetVolumeName())
			if vol == nil {
				return &placementError{fmt.Sprintf("claim %s is bound to volume %s, which does not exist", c.GetMetadata().GetName(), c.GetSpec().GetVolumeName())}
			}
			if !binding.NodeAllows(vol, labels) {
				return &placementError{fmt.Sprintf("volume %s of claim %s cannot be used on node %s", vol.GetMetadata().GetName(), c.GetMetadata().GetName(), node)}
			}
		} else {
			chosen, why := binding.Choose(c, pvs, classes, labels)
			if chosen == nil {
				return &placementError{why}
			}
			var err error
			if c, vol, err = bindClaim(tx, log, c, chosen); err != nil {
				return err
			}
			pvs = tx.PersistentVolumes()
		}
		rv.PersistentVolume, rv.Claim = vol.GetMetadata().GetName(), c.GetMetadata().GetName()
		rv.Local, rv.HostPath, rv.Nfs = vol.GetSpec().GetLocal(), vol.GetSpec().GetHostPath(), vol.GetSpec().GetNfs()
		rv.MountOptions = vol.GetSpec().GetMountOptions()
		rv.ReadOnly = v.readOnly || vol.GetSpec().GetNfs().GetReadOnly()
		pod.ResolvedVolumes = append(pod.ResolvedVolumes, rv)
	}
	return nil
}

// bindClaim binds claim c to volume pv in both objects.
func bindClaim(tx *Tx, log *slog.Logger, c *ordov1.PersistentVolumeClaim, pv *ordov1.PersistentVolume) (*ordov1.PersistentVolumeClaim, *ordov1.PersistentVolume, error) {
	ns, name := c.GetMetadata().GetNamespace(), c.GetMetadata().GetName()
	v := proto.Clone(pv).(*ordov1.PersistentVolume)
	v.Spec.ClaimRef = &ordov1.ObjectReference{Kind: KindPersistentVolumeClaim, Namespace: ns, Name: name, Uid: c.GetMetadata().GetUid()}
	v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseBound}
	v, err := tx.PutPersistentVolume(v)
	if err != nil {
		return nil, nil, err
	}
	nc := proto.Clone(c).(*ordov1.PersistentVolumeClaim)
	nc.Spec.VolumeName = v.GetMetadata().GetName()
	nc.Status = &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhaseBound, AccessModes: v.GetSpec().GetAccessModes(), Capacity: v.GetSpec().GetCapacity()}
	if nc, err = tx.PutPersistentVolumeClaim(nc); err != nil {
		return nil, nil, err
	}
	log.Info("claim bound", "claim", name, "namespace", ns, "volume", v.GetMetadata().GetName())
	return nc, v, tx.Record(KindPersistentVolumeClaim, ns, name, "Bound", "claim %s bound to volume %s", name, v.GetMetadata().GetName())
}

// bindImmediate binds every unbound claim of an Immediate class that a volume
// satisfies.
func bindImmediate(tx *Tx, log *slog.Logger) error {
	classes := tx.StorageClasses()
	for _, c := range tx.PersistentVolumeClaims() {
		if binding.IsBound(c) || c.GetMetadata().GetDeletionTime() != nil ||
			binding.Mode(binding.ClassOf(c, classes), classes) != binding.Immediate {
			continue
		}
		pv, why := binding.Choose(c, tx.PersistentVolumes(), classes, nil)
		if pv == nil {
			if c.GetStatus().GetMessage() != why {
				nc := proto.Clone(c).(*ordov1.PersistentVolumeClaim)
				nc.Status = &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhasePending, Reason: "ProvisioningFailed", Message: why}
				if _, err := tx.PutPersistentVolumeClaim(nc); err != nil {
					return err
				}
			}
			continue
		}
		if _, _, err := bindClaim(tx, log, c, pv); err != nil {
			return err
		}
	}
	return nil
}

// releaseClaim removes claim c and releases its volume by its reclaim policy.
func releaseClaim(tx *Tx, log *slog.Logger, c *ordov1.PersistentVolumeClaim, why string) error {
	ns, name := c.GetMetadata().GetNamespace(), c.GetMetadata().GetName()
	if err := tx.DeletePersistentVolumeClaim(ns, name); err != nil {
		return err
	}
	log.Info("claim deleted", "claim", name, "namespace", ns, "reason", why)
	if err := tx.Record(KindPersistentVolumeClaim, ns, name, "Deleted", "claim %s deleted: %s", name, why); err != nil {
		return err
	}
	pv := tx.PersistentVolume(c.GetSpec().GetVolumeName())
	if pv == nil || pv.GetSpec().GetClaimRef().GetName() != name || pv.GetSpec().GetClaimRef().GetNamespace() != ns {
		return nil
	}
	v := proto.Clone(pv).(*ordov1.PersistentVolume)
	pvName := v.GetMetadata().GetName()
	switch {
	case v.GetSpec().GetReclaimPolicy() != manifest.ReclaimDelete:
		v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseReleased, Message: "claim " + ns + "/" + name + " was deleted; the data is kept"}
	case v.GetSpec().GetLocal() != nil && binding.PinnedNode(v) != "":
		v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseReleased, Reason: reasonCleanup,
			Message: "removing the data on node " + binding.PinnedNode(v)}
	default:
		log.Info("volume deleted", "volume", pvName, "reason", "reclaim policy Delete")
		return tx.DeletePersistentVolume(pvName)
	}
	log.Info("volume released", "volume", pvName, "phase", v.Status.Phase, "reason", v.Status.Reason)
	_, err := tx.PutPersistentVolume(v)
	return err
}

// applyRetention deletes the claims of set that its retention policy no longer
// wants: those of ordinals out of range whose pod is gone (whenScaled:
// Delete), or all whose pod is gone while the set is deleted (whenDeleted:
// Delete).
func applyRetention(tx *Tx, log *slog.Logger, set *ordov1.StatefulSet, pods []*ordov1.Pod, setGone bool) error {
	policy := set.GetSpec().GetPersistentVolumeClaimRetentionPolicy()
	deleting := set.GetMetadata().GetDeletionTime() != nil || setGone
	if deleting && policy.GetWhenDeleted() != manifest.RetentionDelete {
		return nil
	}
	if !deleting && policy.GetWhenScaled() != manifest.RetentionDelete {
		return nil
	}
	start := int64(set.GetSpec().GetOrdinalsStart())
	end := start + int64(set.GetSpec().GetReplicas())
	has := map[int32]bool{}
	for _, p := range pods {
		has[p.GetOrdinal()] = true
	}
	ns, setName := set.GetMetadata().GetNamespace(), set.GetMetadata().GetName()
	for _, c := range tx.PersistentVolumeClaims() {
		if c.GetMetadata().GetNamespace() != ns || c.GetMetadata().GetLabels()[identity.LabelSet] != setName {
			continue
		}
		o, ok := claimOrdinal(set, c.GetMetadata().GetName())
		if !ok || has[o] {
			continue
		}
		if !deleting && int64(o) >= start && int64(o) < end {
			continue
		}
		why := "StatefulSet " + setName + " scaled down (whenScaled: Delete)"
		if deleting {
			why = "StatefulSet " + setName + " deleted (whenDeleted: Delete)"
		}
		if err := releaseClaim(tx, log, c, why); err != nil {
			return err
		}
	}
	return nil
}

// claimOrdinal is the ordinal of a claim <template>-<set>-<ordinal> of set.
func claimOrdinal(set *ordov1.StatefulSet, claim string) (int32, bool) {
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

// ---------------------------------------------------------------- Control

// applyStorage stores a validated PV, PVC or StorageClass; ok is false for
// other kinds.
func applyStorage(tx *Tx, log *slog.Logger, o *ordov1.Object) (action string, ok bool, err error) {
	switch k := o.GetKind().(type) {
	case *ordov1.Object_PersistentVolume:
		in := k.PersistentVolume
		name := in.GetMetadata().GetName()
		cur := tx.PersistentVolume(name)
		v := &ordov1.PersistentVolume{Metadata: userMeta(in.GetMetadata()), Spec: proto.Clone(in.GetSpec()).(*ordov1.PersistentVolumeSpec),
			Status: &ordov1.PersistentVolumeStatus{Phase: binding.PhaseAvailable}}
		v.Metadata.Namespace = ""
		v.Spec.ClaimRef = nil
		action = "created"
		if cur != nil {
			v.Spec.ClaimRef = cur.GetSpec().GetClaimRef()
			v.Status = cur.GetStatus()
			if proto.Equal(cur.GetSpec(), v.GetSpec()) && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
				return "unchanged", true, nil
			}
			if cur.GetSpec().GetClaimRef() != nil && (!proto.Equal(cur.GetSpec().GetLocal(), v.Spec.GetLocal()) ||
				!proto.Equal(cur.GetSpec().GetHostPath(), v.Spec.GetHostPath()) || !proto.Equal(cur.GetSpec().GetNfs(), v.Spec.GetNfs())) {
				return "", true, errdefs.Invalid("spec", "the volume source of a bound volume cannot change")
			}
			action = "configured"
		}
		if _, err := tx.PutPersistentVolume(v); err != nil {
			return "", true, err
		}
		return action, true, bindImmediate(tx, log)
	case *ordov1.Object_PersistentVolumeClaim:
		in := k.PersistentVolumeClaim
		ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
		cur := tx.PersistentVolumeClaim(ns, name)
		if cur != nil {
			want := proto.Clone(in.GetSpec()).(*ordov1.PersistentVolumeClaimSpec)
			if want.VolumeName == "" {
				want.VolumeName = cur.GetSpec().GetVolumeName()
			}
			if !proto.Equal(cur.GetSpec(), want) {
				return "", true, errdefs.Invalid("spec", "a claim's spec cannot change once it is created; delete it and create it again")
			}
			if sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
				return "unchanged", true, nil
			}
			c := proto.Clone(cur).(*ordov1.PersistentVolumeClaim)
			c.Metadata.Labels, c.Metadata.Annotations = in.GetMetadata().GetLabels(), in.GetMetadata().GetAnnotations()
			_, err := tx.PutPersistentVolumeClaim(c)
			return "configured", true, err
		}
		c := &ordov1.PersistentVolumeClaim{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec(),
			Status: &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhasePending}}
		if _, err := tx.PutPersistentVolumeClaim(c); err != nil {
			return "", true, err
		}
		return "created", true, bindImmediate(tx, log)
	case *ordov1.Object_StorageClass:
		in := k.StorageClass
		cur := tx.StorageClass(in.GetMetadata().GetName())
		sc := proto.Clone(in).(*ordov1.StorageClass)
		sc.Metadata = userMeta(in.GetMetadata())
		sc.Metadata.Namespace = ""
		if cur != nil {
			if cur.GetVolumeBindingMode() != sc.GetVolumeBindingMode() || cur.GetProvisioner() != sc.GetProvisioner() || cur.GetReclaimPolicy() != sc.GetReclaimPolicy() {
				return "", true, errdefs.Invalid("volumeBindingMode", "a StorageClass's provisioner, reclaimPolicy and volumeBindingMode cannot change")
			}
			c := proto.Clone(cur).(*ordov1.StorageClass)
			c.Metadata.Labels, c.Metadata.Annotations, c.IsDefault, c.MountOptions = sc.Metadata.Labels, sc.Metadata.Annotations, sc.IsDefault, sc.MountOptions
			if proto.Equal(c, cur) {
				return "unchanged", true, nil
			}
			sc = c
			action = "configured"
		} else {
			action = "created"
		}
		if _, err := tx.PutStorageClass(sc); err != nil {
			return "", true, err
		}
		return action, true, bindImmediate(tx, log)
	}
	return "", false, nil
}

// deleteStorage deletes a PV, PVC or StorageClass by name.
func deleteStorage(tx *Tx, log *slog.Logger, kind, ns, name string) error {
	switch kind {
	case KindPersistentVolume:
		pv := tx.PersistentVolume(name)
		if pv == nil {
			return errdefs.NotFound("persistentvolume", name)
		}
		if pv.GetStatus().GetPhase() == binding.PhaseBound {
			ref := pv.GetSpec().GetClaimRef()
			return fmt.Errorf("volume %s is bound to claim %s/%s; delete the claim first: %w", name, ref.GetNamespace(), ref.GetName(), errdefs.ErrConflict)
		}
		return tx.DeletePersistentVolume(name)
	case KindPersistentVolumeClaim:
		c := tx.PersistentVolumeClaim(ns, name)
		if c == nil {
			return errdefs.NotFound("persistentvolumeclaim", Key(ns, name))
		}
		if user := claimUser(tx, c); user != "" {
			return fmt.Errorf("claim %s is used by pod %s; delete or scale down its user first: %w", name, user, errdefs.ErrConflict)
		}
		return releaseClaim(tx, log, c, "deleted by user")
	case KindStorageClass:
		if tx.StorageClass(name) == nil {
			return errdefs.NotFound("storageclass", name)
		}
		return tx.DeleteStorageClass(name)
	}
	return errdefs.Invalid("ref.kind", "%s objects cannot be deleted", kind)
}

// claimUser names a pod that uses claim c, or "".
func claimUser(tx *Tx, c *ordov1.PersistentVolumeClaim) string {
	ns := c.GetMetadata().GetNamespace()
	for _, p := range tx.s.podsUnsorted() {
		if p.GetMetadata().GetNamespace() != ns {
			continue
		}
		if cur := tx.Pod(ns, p.GetMetadata().GetName()); cur == nil {
			continue
		}
		set := tx.StatefulSet(ns, p.GetSetName())
		if set == nil {
			set = &ordov1.StatefulSet{Metadata: &ordov1.ObjectMeta{Name: p.GetSetName(), Namespace: ns}}
		}
		for _, v := range podVolumes(set, p) {
			if v.claim == c.GetMetadata().GetName() {
				return p.GetMetadata().GetName()
			}
		}
	}
	return ""
}
