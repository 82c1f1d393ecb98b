// Package controller decides what a StatefulSet needs next. Reconcile is a pure
// function of the set, the pods observed, the nodes and the clock; applying its
// actions (store writes, pushes to agents) is the caller's business.
package controller

import (
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
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
}

// Result is the decision for one set.
type Result struct {
	Actions []Action
	// Status is the set's status computed from the observed pods.
	Status *ordov1.StatefulSetStatus
	// RequeueAfter, when non-zero, asks the caller to reconcile again after this
	// long even if nothing changes (minReadySeconds running out).
	RequeueAfter time.Duration
}
