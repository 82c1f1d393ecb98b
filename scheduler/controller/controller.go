// Package controller decides what a StatefulSet needs next. Reconcile is a pure
// function of the set, the pods observed, the nodes, the set's revision
// history and the clock; applying its decisions (store writes, pushes to
// agents, revision history, rollbacks) is the caller's business.
//
// What the caller does with a Result:
//
//   - Actions: apply each in order (CreatePod, BindPod, DeletePod,
//     MarkUnschedulable). Rolling updates need no action kind of their own: an
//     outdated pod is deleted (DeletePod) and, once it is gone, created again on
//     the update revision (CreatePod) with the same name and ordinal.
//   - Status: store it as the set's status. Reconcile reads the stored status
//     back (current_revision, conditions), so it must be persisted.
//   - NewRevision: upsert it into the set's revision history by Name (a new
//     revision, or an older one re-applied whose Number is bumped to the
//     highest). Pass the history back in Input.Revisions next time.
//   - PruneRevisions: remove these names from the history.
//   - Rollback: the set's automatic rollback (annotation
//     AnnotationAutoRollback) fired. Replace spec.template with
//     Rollback.Template (the template of revision Rollback.ToRevision), bump
//     metadata.generation as for any spec change, record Rollback.Reason as an
//     event, and reconcile again. Actions is empty in that Result.
//   - RequeueAfter: reconcile again after that long even if nothing changes.
//
// Zero values of every field added to Input and Result keep the behaviour of
// a caller that knows nothing of revision history: without Revisions the
// history is empty (every Reconcile proposes the update revision as
// NewRevision), pods below the partition are recreated on the update revision,
// and no Rollback is ever returned.
package controller

import (
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
)

// Input is everything Reconcile looks at. Nothing in it is modified.
type Input struct {
	Set *ordov1.StatefulSet
	// Pods of this set (Pod.set_name == set name, same namespace), including pods
	// being deleted (metadata.deletion_time set) and pods not yet bound to a node.
	Pods []*ordov1.Pod
	// Nodes registered with the scheduler.
	Nodes []*ordov1.NodeInfo
	// AllPods is every pod in the cluster, for placement (capacity, anti-affinity).
	AllPods []*ordov1.Pod
	Now     time.Time
	// Revisions is the set's revision history as persisted by the caller from
	// earlier Results (NewRevision, PruneRevisions), in any order.
	Revisions []ControllerRevision
	// NodeFilters restrict placement per pod name (what the pod's volume
	// claims allow). A pod without an entry may go to any node.
	NodeFilters map[string]NodeFilter
	// Volumes, when set, lets placement choose the volumes of the pods'
	// unbound claims together with their node, so that a placement always
	// comes with volumes that fit it (Action.Volumes).
	Volumes *Volumes
}

// Volumes is what placement needs to bind claims.
type Volumes struct {
	// Claims of each pod by pod name, as they exist or will be created
	// from the set's claim templates. A pod without an entry uses none.
	Claims            map[string][]binding.Claim
	PersistentVolumes []*ordov1.PersistentVolume
	StorageClasses    []*ordov1.StorageClass
}

// NodeFilter restricts where one pod may be placed.
type NodeFilter struct {
	// Nodes the pod may go to; nil means any node.
	Nodes map[string]bool
	// Reason, when no node is allowed, says why in words a person can act on
	// ("no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage").
	Reason string
}

// ControllerRevision is one entry of a set's revision history, like
// Kubernetes' ControllerRevision: the pod template of a revision, its name
// (Revision of a set with that template, "<set>-<hash>") and its number
// (1, 2, ...; the highest is the latest applied template).
type ControllerRevision struct {
	Name     string
	Number   int64
	Template *ordov1.PodTemplate
}

// Rollback asks the caller to put the set's template back to an earlier
// revision.
type Rollback struct {
	// ToRevision is the revision to return to: the last one on which every pod
	// was Ready (the status' current_revision).
	ToRevision string
	// Template is ToRevision's template, from Input.Revisions.
	Template *ordov1.PodTemplate
	// Reason says why, for events and `ordo rollout status`.
	Reason string
}

// ActionKind says what an Action does.
type ActionKind int

const (
	// CreatePod stores Action.Pod as a new pod. Its NodeName is set when placement
	// succeeded; otherwise it is empty and Status carries phase Pending and the reason.
	CreatePod ActionKind = iota + 1
	// BindPod assigns the unbound Action.Pod to Action.Node.
	BindPod
	// DeletePod asks for Action.Pod to be stopped and removed.
	DeletePod
	// MarkUnschedulable records on the unbound Action.Pod why it cannot be placed (Action.Reason).
	MarkUnschedulable
)

func (k ActionKind) String() string {
	switch k {
	case CreatePod:
		return "CreatePod"
	case BindPod:
		return "BindPod"
	case DeletePod:
		return "DeletePod"
	case MarkUnschedulable:
		return "MarkUnschedulable"
	}
	return "Unknown"
}

// Action is one step the caller must apply.
type Action struct {
	Kind   ActionKind
	Pod    *ordov1.Pod
	Node   string // BindPod: the chosen node
	Reason string // human-readable why, for events and logs
	// Volumes, for a pod placed on a node (CreatePod with a node, BindPod),
	// is the volume chosen for each of its unbound claims: claim name →
	// PersistentVolume name. The caller binds them; it chooses nothing.
	Volumes map[string]string
}

// Result is the decision for one set.
type Result struct {
	Actions []Action
	// Status is the set's status computed from the observed pods.
	Status *ordov1.StatefulSetStatus
	// RequeueAfter, when non-zero, asks the caller to reconcile again after this
	// long even if nothing changes (minReadySeconds or an auto-rollback
	// deadline running out).
	RequeueAfter time.Duration
	// NewRevision, when set, is to be upserted into the history by Name: the
	// set's current template is not in Input.Revisions yet, or it is an older
	// revision applied again (its Number is then the highest plus one).
	NewRevision *ControllerRevision
	// PruneRevisions are history entries beyond spec.revision_history_limit
	// that neither the current nor the update revision is and no pod runs;
	// the caller deletes them.
	PruneRevisions []string
	// Rollback, when set, asks the caller to restore an earlier template.
	Rollback *Rollback
}
