package controller

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
)

// run carries the decisions of one Reconcile call, so that later placements
// see earlier ones.
type run struct {
	now     time.Time
	nodes   []*ordov1.NodeInfo
	placed  []*ordov1.Pod
	filters map[string]NodeFilter
	volumes *Volumes
	taken   map[string]bool // volumes chosen for pods placed earlier in this run
}

// place runs the placement with p's node filter, if it has one, and, when p
// has claims, chooses their volumes on the node it picks: feasibility and
// volume choice are one decision. vols is claim name → volume name.
func (r *run) place(p *ordov1.Pod) (node, why string, vols map[string]string) {
	var filter *NodeFilter
	if f, ok := r.filters[p.GetMetadata().GetName()]; ok {
		filter = &f
	}
	claims := r.claimsOf(p)
	if len(claims) == 0 {
		node, why = PlaceFiltered(p, r.nodes, r.placed, filter)
		return node, why, nil
	}
	var chosen map[string]*ordov1.PersistentVolume
	check := func(n *ordov1.NodeInfo, labels map[string]string) string {
		c, why := binding.Assign(claims, r.volumes.PersistentVolumes, r.volumes.StorageClasses, labels, r.taken)
		if why != "" {
			return why
		}
		chosen = c
		return ""
	}
	node, why = placeChecked(p, r.nodes, r.placed, filter, check)
	if node == "" {
		return "", why, nil
	}
	// The checker only runs for a node that would win, so its last success
	// is the winner's choice.
	if len(chosen) > 0 {
		vols = map[string]string{}
		for c, pv := range chosen {
			vols[c] = pv.GetMetadata().GetName()
			r.taken[pv.GetMetadata().GetName()] = true
		}
	}
	return node, "", vols
}

func (r *run) claimsOf(p *ordov1.Pod) []binding.Claim {
	if r.volumes == nil {
		return nil
	}
	return r.volumes.Claims[p.GetMetadata().GetName()]
}

// create builds ordinal's pod on revision; template, when not nil, replaces
// the set's template (a pod kept below the partition on the current revision).
func (r *run) create(set *ordov1.StatefulSet, ordinal int32, revision string, template *ordov1.PodTemplate) Action {
	if template != nil && template != set.GetSpec().GetTemplate() {
		s := proto.Clone(set).(*ordov1.StatefulSet)
		if s.Spec == nil {
			s.Spec = &ordov1.StatefulSetSpec{}
		}
		s.Spec.Template = template
		set = s
	}
	p := NewPod(set, ordinal, revision)
	p.Metadata.CreationTime = timestamppb.New(r.now)
	node, why, vols := r.place(p)
	if node != "" {
		p.NodeName = node
		p.ScheduledTime = timestamppb.New(r.now)
		r.placed = append(r.placed, p)
		return Action{Kind: CreatePod, Pod: p, Node: node, Volumes: vols, Reason: "create " + p.GetMetadata().GetName() + " on " + node}
	}
	p.Status.Reason = ReasonUnschedulable
	p.Status.Message = why
	return Action{Kind: CreatePod, Pod: p, Reason: why}
}

// schedule binds the unbound pod p if a node fits; otherwise it records why
// not, when that changed. ok is false when nothing needs to be done.
func (r *run) schedule(p *ordov1.Pod) (Action, bool) {
	node, why, vols := r.place(p)
	c := proto.Clone(p).(*ordov1.Pod)
	if c.Status == nil {
		c.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
	}
	if node != "" {
		c.NodeName = node
		c.ScheduledTime = timestamppb.New(r.now)
		if c.Status.Reason == ReasonUnschedulable {
			c.Status.Reason, c.Status.Message = "", ""
		}
		r.placed = append(r.placed, c)
		return Action{Kind: BindPod, Pod: c, Node: node, Volumes: vols, Reason: "bind " + c.GetMetadata().GetName() + " to " + node}, true
	}
	if p.GetStatus().GetReason() == ReasonUnschedulable && p.GetStatus().GetMessage() == why {
		return Action{}, false
	}
	c.Status.Reason = ReasonUnschedulable
	c.Status.Message = why
	return Action{Kind: MarkUnschedulable, Pod: c, Reason: why}, true
}

func (r *run) delete(p *ordov1.Pod, why string) Action {
	c := proto.Clone(p).(*ordov1.Pod)
	if c.Metadata == nil {
		c.Metadata = &ordov1.ObjectMeta{}
	}
	c.Metadata.DeletionTime = timestamppb.New(r.now)
	return Action{Kind: DeletePod, Pod: c, Node: c.GetNodeName(), Reason: why}
}

// computeStatus counts the pods in range that exist and are not terminating.
// requeue is the shortest time until a Ready pod becomes Available.
//
// The current revision is the one the pods ran before the update started:
// the stored status' current_revision, until every pod in range exists, runs
// the update revision and is Ready; then it is the update revision. Without a
