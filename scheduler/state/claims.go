package state

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
)

// Storage transitions:
//
//	claim templates → claims <template>-<set>-<ordinal> (created with the pod, kept for later incarnations)
//	claims → volumes (chosen by placement for WaitForFirstConsumer and template claims; at once for Immediate classes)
//	pod on a node → Pod.resolved_volumes (what the agent mounts)
//	claim deleted → volume Released (Retain) or removed (Delete; a local volume's data is removed by its node's agent first)

// ReasonVolumeCleanup marks a volume whose data its node's agent is asked to remove.
const ReasonVolumeCleanup = "VolumeCleanup"

// PrepareVolumes runs when pod is put on its node (created there or bound),
// or created unbound: the claims of its set's templates are created when
// missing, and, on a node, its unbound claims are bound to the volumes
// placement chose (claim → volume) and its volumes are resolved for the
// agent. It changes pod in place. A choice that no longer fits (the state
// changed since placement) fails with ErrConflict.
func (t *Tx) PrepareVolumes(set *ordov1.StatefulSet, pod *ordov1.Pod, chosen map[string]string) error {
	ns, node := pod.GetMetadata().GetNamespace(), pod.GetNodeName()
	pod.ResolvedVolumes = nil
	var labels map[string]string
	if n := t.Node(node); n != nil {
		labels = binding.NodeLabels(n)
	} else if node != "" {
		labels = map[string]string{binding.LabelHostname: node}
	}
	for _, v := range binding.PodVolumes(set, pod) {
		rv := &ordov1.ResolvedVolume{Name: v.Name}
		if v.Claim == "" {
			src := v.Source
			rv.HostPath, rv.EmptyDir = src.GetHostPath(), src.GetEmptyDir()
			rv.ConfigMap, rv.Secret = src.GetConfigMap(), src.GetSecret()
			rv.DownwardApi, rv.Projected = src.GetDownwardApi(), src.GetProjected()
			pod.ResolvedVolumes = append(pod.ResolvedVolumes, rv)
			continue
		}
		c := t.PersistentVolumeClaim(ns, v.Claim)
		if c == nil {
			if v.Template == nil {
				if node == "" {
					continue // the pod is Pending with placement's reason
				}
				return conflict("persistentvolumeclaim %q not found", v.Claim)
			}
			created, err := t.PutPersistentVolumeClaim(binding.ClaimFromTemplate(set, v.Template, pod.GetOrdinal()))
			if err != nil {
				return err
			}
			c = created
			t.log.Info("claim created", "claim", c.GetMetadata().GetName(), "namespace", ns, "pod", pod.GetMetadata().GetName())
			if err := t.Record(kinds.StatefulSet, ns, set.GetMetadata().GetName(), "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", c.GetMetadata().GetName(), pod.GetMetadata().GetName(), set.GetMetadata().GetName()); err != nil {
				return err
			}
		}
		if node == "" {
			continue
		}
		var vol *ordov1.PersistentVolume
		if binding.IsBound(c) {
			vol = t.PersistentVolume(c.GetSpec().GetVolumeName())
			if vol == nil {
				return conflict("claim %s is bound to volume %s, which does not exist", c.GetMetadata().GetName(), c.GetSpec().GetVolumeName())
			}
			if !binding.NodeAllows(vol, labels) {
				return conflict("volume %s of claim %s cannot be used on node %s", vol.GetMetadata().GetName(), c.GetMetadata().GetName(), node)
			}
		} else {
			pv := t.PersistentVolume(chosen[c.GetMetadata().GetName()])
			if pv == nil {
				return conflict("no volume was chosen for claim %s on node %s", c.GetMetadata().GetName(), node)
			}
			if len(binding.Candidates(c, []*ordov1.PersistentVolume{pv}, t.StorageClasses())) == 0 || !binding.NodeAllows(pv, labels) {
				return conflict("volume %s no longer fits claim %s on node %s", pv.GetMetadata().GetName(), c.GetMetadata().GetName(), node)
			}
			var err error
			if c, vol, err = t.bindClaim(c, pv); err != nil {
				return err
			}
		}
		rv.PersistentVolume, rv.Claim = vol.GetMetadata().GetName(), c.GetMetadata().GetName()
		rv.Local, rv.HostPath, rv.Nfs = vol.GetSpec().GetLocal(), vol.GetSpec().GetHostPath(), vol.GetSpec().GetNfs()
		rv.MountOptions = vol.GetSpec().GetMountOptions()
		rv.ReadOnly = v.ReadOnly || vol.GetSpec().GetNfs().GetReadOnly()
		pod.ResolvedVolumes = append(pod.ResolvedVolumes, rv)
	}
	return nil
}

func conflict(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrConflict)...)
}

// bindClaim binds claim c to volume pv in both objects.
func (t *Tx) bindClaim(c *ordov1.PersistentVolumeClaim, pv *ordov1.PersistentVolume) (*ordov1.PersistentVolumeClaim, *ordov1.PersistentVolume, error) {
	ns, name := c.GetMetadata().GetNamespace(), c.GetMetadata().GetName()
	v := proto.Clone(pv).(*ordov1.PersistentVolume)
	v.Spec.ClaimRef = &ordov1.ObjectReference{Kind: kinds.PersistentVolumeClaim, Namespace: ns, Name: name, Uid: c.GetMetadata().GetUid()}
	v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseBound}
	v, err := t.PutPersistentVolume(v)
	if err != nil {
		return nil, nil, err
	}
	nc := proto.Clone(c).(*ordov1.PersistentVolumeClaim)
	nc.Spec.VolumeName = v.GetMetadata().GetName()
	nc.Status = &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhaseBound, AccessModes: v.GetSpec().GetAccessModes(), Capacity: v.GetSpec().GetCapacity()}
	if nc, err = t.PutPersistentVolumeClaim(nc); err != nil {
		return nil, nil, err
	}
	t.log.Info("claim bound", "claim", name, "namespace", ns, "volume", v.GetMetadata().GetName())
	return nc, v, t.Record(kinds.PersistentVolumeClaim, ns, name, "Bound", "claim %s bound to volume %s", name, v.GetMetadata().GetName())
}

// BindImmediate binds every unbound claim of an Immediate class that a volume
// satisfies.
func (t *Tx) BindImmediate() error {
	classes := t.StorageClasses()
	for _, c := range t.PersistentVolumeClaims() {
		if binding.IsBound(c) || c.GetMetadata().GetDeletionTime() != nil ||
			binding.Mode(binding.ClassOf(c, classes), classes) != binding.Immediate {
			continue
		}
		pv, why := binding.Choose(c, t.PersistentVolumes(), classes, nil)
		if pv == nil {
			if c.GetStatus().GetMessage() != why {
				nc := proto.Clone(c).(*ordov1.PersistentVolumeClaim)
				nc.Status = &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhasePending, Reason: "ProvisioningFailed", Message: why}
				if _, err := t.PutPersistentVolumeClaim(nc); err != nil {
					return err
				}
			}
			continue
		}
		if _, _, err := t.bindClaim(c, pv); err != nil {
			return err
		}
	}
	return nil
}

// ReleaseClaim removes claim c and releases its volume by its reclaim policy.
func (t *Tx) ReleaseClaim(c *ordov1.PersistentVolumeClaim, why string) error {
	ns, name := c.GetMetadata().GetNamespace(), c.GetMetadata().GetName()
	if err := t.Delete(kinds.PersistentVolumeClaim, ns, name); err != nil {
		return err
	}
	t.log.Info("claim deleted", "claim", name, "namespace", ns, "reason", why)
	if err := t.Record(kinds.PersistentVolumeClaim, ns, name, "Deleted", "claim %s deleted: %s", name, why); err != nil {
		return err
	}
	pv := t.PersistentVolume(c.GetSpec().GetVolumeName())
	if pv == nil || pv.GetSpec().GetClaimRef().GetName() != name || pv.GetSpec().GetClaimRef().GetNamespace() != ns {
		return nil
	}
	v := proto.Clone(pv).(*ordov1.PersistentVolume)
	pvName := v.GetMetadata().GetName()
	switch {
	case v.GetSpec().GetReclaimPolicy() != manifest.ReclaimDelete:
		v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseReleased, Message: "claim " + ns + "/" + name + " was deleted; the data is kept"}
	case v.GetSpec().GetLocal() != nil && binding.PinnedNode(v) != "":
		v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseReleased, Reason: ReasonVolumeCleanup,
			Message: "removing the data on node " + binding.PinnedNode(v)}
	default:
		t.log.Info("volume deleted", "volume", pvName, "reason", "reclaim policy Delete")
		return t.Delete(kinds.PersistentVolume, "", pvName)
	}
	t.log.Info("volume released", "volume", pvName, "phase", v.Status.Phase, "reason", v.Status.Reason)
	_, err := t.PutPersistentVolume(v)
	return err
}

// ApplyRetention deletes the claims of set that its retention policy no longer
// wants: those of ordinals out of range whose pod is gone (whenScaled:
// Delete), or all whose pod is gone while the set is deleted (whenDeleted:
// Delete).
func (t *Tx) ApplyRetention(set *ordov1.StatefulSet, pods []*ordov1.Pod, setGone bool) error {
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
	for _, c := range t.PersistentVolumeClaims() {
		if c.GetMetadata().GetNamespace() != ns || c.GetMetadata().GetLabels()[identity.LabelSet] != setName {
			continue
		}
		o, ok := binding.ClaimOrdinal(set, c.GetMetadata().GetName())
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
		if err := t.ReleaseClaim(c, why); err != nil {
			return err
		}
	}
	return nil
}

// ApplyPersistentVolume stores a validated volume: created, configured or
// unchanged. The source of a bound volume cannot change.
func (t *Tx) ApplyPersistentVolume(in *ordov1.PersistentVolume) (string, error) {
	name := in.GetMetadata().GetName()
	cur := t.PersistentVolume(name)
	v := &ordov1.PersistentVolume{Metadata: userMeta(in.GetMetadata()), Spec: proto.Clone(in.GetSpec()).(*ordov1.PersistentVolumeSpec),
		Status: &ordov1.PersistentVolumeStatus{Phase: binding.PhaseAvailable}}
	v.Metadata.Namespace = ""
	v.Spec.ClaimRef = nil
	action := "created"
	if cur != nil {
		v.Spec.ClaimRef = cur.GetSpec().GetClaimRef()
		v.Status = cur.GetStatus()
		if proto.Equal(cur.GetSpec(), v.GetSpec()) && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
			return "unchanged", nil
		}
		if cur.GetSpec().GetClaimRef() != nil && (!proto.Equal(cur.GetSpec().GetLocal(), v.Spec.GetLocal()) ||
			!proto.Equal(cur.GetSpec().GetHostPath(), v.Spec.GetHostPath()) || !proto.Equal(cur.GetSpec().GetNfs(), v.Spec.GetNfs())) {
			return "", errdefs.Invalid("spec", "the volume source of a bound volume cannot change")
		}
		action = "configured"
	}
	if _, err := t.PutPersistentVolume(v); err != nil {
		return "", err
	}
	return action, t.BindImmediate()
}

// ApplyPersistentVolumeClaim stores a validated claim. A claim's spec cannot
// change once it is created.
func (t *Tx) ApplyPersistentVolumeClaim(in *ordov1.PersistentVolumeClaim) (string, error) {
	ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
	cur := t.PersistentVolumeClaim(ns, name)
	if cur != nil {
		want := proto.Clone(in.GetSpec()).(*ordov1.PersistentVolumeClaimSpec)
		if want.VolumeName == "" {
			want.VolumeName = cur.GetSpec().GetVolumeName()
		}
		if !proto.Equal(cur.GetSpec(), want) {
			return "", errdefs.Invalid("spec", "a claim's spec cannot change once it is created; delete it and create it again")
		}
		if sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
			return "unchanged", nil
		}
		c := proto.Clone(cur).(*ordov1.PersistentVolumeClaim)
		c.Metadata.Labels, c.Metadata.Annotations = in.GetMetadata().GetLabels(), in.GetMetadata().GetAnnotations()
		_, err := t.PutPersistentVolumeClaim(c)
		return "configured", err
	}
	c := &ordov1.PersistentVolumeClaim{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec(),
		Status: &ordov1.PersistentVolumeClaimStatus{Phase: binding.PhasePending}}
	if _, err := t.PutPersistentVolumeClaim(c); err != nil {
		return "", err
	}
	return "created", t.BindImmediate()
}

// ApplyStorageClass stores a validated class. Its provisioner, reclaim
// policy and binding mode cannot change.
func (t *Tx) ApplyStorageClass(in *ordov1.StorageClass) (string, error) {
	cur := t.StorageClass(in.GetMetadata().GetName())
	sc := proto.Clone(in).(*ordov1.StorageClass)
	sc.Metadata = userMeta(in.GetMetadata())
	sc.Metadata.Namespace = ""
	action := "created"
	if cur != nil {
		if cur.GetVolumeBindingMode() != sc.GetVolumeBindingMode() || cur.GetProvisioner() != sc.GetProvisioner() || cur.GetReclaimPolicy() != sc.GetReclaimPolicy() {
			return "", errdefs.Invalid("volumeBindingMode", "a StorageClass's provisioner, reclaimPolicy and volumeBindingMode cannot change")
		}
		c := proto.Clone(cur).(*ordov1.StorageClass)
		c.Metadata.Labels, c.Metadata.Annotations, c.IsDefault, c.MountOptions = sc.Metadata.Labels, sc.Metadata.Annotations, sc.IsDefault, sc.MountOptions
		if proto.Equal(c, cur) {
			return "unchanged", nil
		}
		sc = c
		action = "configured"
	}
	if _, err := t.PutStorageClass(sc); err != nil {
		return "", err
	}
	return action, t.BindImmediate()
}

// DeletePersistentVolume deletes a volume that no claim is bound to.
func (t *Tx) DeletePersistentVolume(name string) error {
	pv := t.PersistentVolume(name)
	if pv == nil {
		return errdefs.NotFound("persistentvolume", name)
	}
	if pv.GetStatus().GetPhase() == binding.PhaseBound {
		ref := pv.GetSpec().GetClaimRef()
		return fmt.Errorf("volume %s is bound to claim %s/%s; delete the claim first: %w", name, ref.GetNamespace(), ref.GetName(), errdefs.ErrConflict)
	}
	return t.Delete(kinds.PersistentVolume, "", name)
}

// DeletePersistentVolumeClaim deletes a claim that no pod uses and releases
// its volume.
func (t *Tx) DeletePersistentVolumeClaim(ns, name string) error {
	c := t.PersistentVolumeClaim(ns, name)
	if c == nil {
		return errdefs.NotFound("persistentvolumeclaim", Key(ns, name))
	}
	if user := t.ClaimUser(c); user != "" {
		return fmt.Errorf("claim %s is used by pod %s; delete or scale down its user first: %w", name, user, errdefs.ErrConflict)
	}
	return t.ReleaseClaim(c, "deleted by user")
}

// DeleteStorageClass deletes a class.
func (t *Tx) DeleteStorageClass(name string) error {
	if t.StorageClass(name) == nil {
		return errdefs.NotFound("storageclass", name)
	}
	return t.Delete(kinds.StorageClass, "", name)
}

// VolumeCleanupDone records node's report on removing the data of a
// released volume: the volume is deleted, or Failed with the agent's message.
func (t *Tx) VolumeCleanupDone(node, name string, ok bool, message string) error {
	pv := t.PersistentVolume(name)
	if pv == nil || CleanupNode(pv) != node {
		return nil
	}
	if ok {
		t.log.Info("volume data removed; volume deleted", "volume", name, "node", node)
		if err := t.Delete(kinds.PersistentVolume, "", name); err != nil {
			return err
		}
		return t.Record(kinds.PersistentVolume, "", name, "VolumeDeleted", "data of volume %s removed on %s; volume deleted", name, node)
	}
	v := proto.Clone(pv).(*ordov1.PersistentVolume)
	v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseFailed, Reason: "VolumeFailedDelete", Message: message}
	t.log.Warn("volume cleanup failed", "volume", name, "node", node, "err", message)
	if _, err := t.PutPersistentVolume(v); err != nil {
		return err
	}
	return t.Record(kinds.PersistentVolume, "", name, "VolumeFailedDelete", "%s", message)
}

// CleanupNode is the node whose agent must remove the data of volume m, or "".
func CleanupNode(m proto.Message) string {
	pv, ok := m.(*ordov1.PersistentVolume)
	if !ok || pv.GetStatus().GetReason() != ReasonVolumeCleanup {
		return ""
	}
	return binding.PinnedNode(pv)
}
