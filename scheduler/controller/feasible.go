package controller

import ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"

// placement is what the feasibility checkers and the scores of one pod's
// placement look at: the nodes' labels, what is already bound where, and
// the pods the pod's (anti-)affinity and spread rules count.
type placement struct {
	pod              *ordov1.Pod
	ns               string
	filter           *NodeFilter
	labelsOf         map[string]map[string]string
	count            map[string]int      // bound pods per node (Gone ones left out)
	used             map[string]Requests // what they request
	want             Requests            // what the pod requests
	neighbours       []*ordov1.Pod       // bound pods, but the pod itself and those being deleted
	nodeLabelsByName func(string) map[string]string
	spread           *spread
}

func newPlacement(pod *ordov1.Pod, nodes []*ordov1.NodeInfo, allPods []*ordov1.Pod, filter *NodeFilter) *placement {
	pl := &placement{
		pod: pod, ns: namespaceOf(pod.GetMetadata()), filter: filter,
		labelsOf: make(map[string]map[string]string, len(nodes)),
		count:    map[string]int{}, used: map[string]Requests{}, want: PodRequests(pod.GetSpec()),
	}
	for _, n := range nodes {
		pl.labelsOf[n.GetMetadata().GetName()] = nodeLabels(n)
	}
	pl.nodeLabelsByName = func(name string) map[string]string {
		if l, ok := pl.labelsOf[name]; ok {
			return l
		}
		// A node that is no longer registered still has its hostname.
		return map[string]string{LabelHostname: name}
	}
	name := pod.GetMetadata().GetName()
	for _, p := range allPods {
		if p == nil || p.GetNodeName() == "" || p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
			continue
		}
		pl.count[p.GetNodeName()]++
		self := namespaceOf(p.GetMetadata()) == pl.ns && p.GetMetadata().GetName() == name
		if !self {
			pl.used[p.GetNodeName()] = pl.used[p.GetNodeName()].Add(PodRequests(p.GetSpec()))
		}
		if self || p.GetMetadata().GetDeletionTime() != nil {
			continue
		}
		pl.neighbours = append(pl.neighbours, p)
	}
	pl.spread = newSpread(pod, pl.ns, nodes, pl.labelsOf, pl.neighbours, pl.nodeLabelsByName)
	return pl
}

// feasibility is one check of a node for the pod: its reason (worded as
// kube-scheduler words it) when fails says the node cannot take the pod.
type feasibility struct {
	reason string
	fails  func(pl *placement, n *ordov1.NodeInfo, labels map[string]string) bool
}

// checkers run in this order; the first that fails names the node's reason.
var checkers = []feasibility{
	{reasonNodeNotReady, func(_ *placement, n *ordov1.NodeInfo, _ map[string]string) bool { return !n.GetReady() }},
	{reasonNodeAffinity, func(pl *placement, _ *ordov1.NodeInfo, l map[string]string) bool {
		return !matchesNodeSelector(pl.pod.GetSpec(), l)
	}},
	{reasonVolumeNodeAffinity, func(pl *placement, n *ordov1.NodeInfo, _ map[string]string) bool {
		return pl.filter != nil && pl.filter.Nodes != nil && !pl.filter.Nodes[n.GetMetadata().GetName()]
	}},
	{reasonTooManyPods, func(pl *placement, n *ordov1.NodeInfo, _ map[string]string) bool {
		return n.GetCapacity().GetMaxPods() > 0 && pl.count[n.GetMetadata().GetName()] >= int(n.GetCapacity().GetMaxPods())
	}},
	{reasonInsufficientCPU, func(pl *placement, n *ordov1.NodeInfo, _ map[string]string) bool {
		return insufficient(pl.want.CPUMillis, pl.used[n.GetMetadata().GetName()].CPUMillis, n.GetCapacity().GetAllocatableCpuMillis())
	}},
	{reasonInsufficientMemory, func(pl *placement, n *ordov1.NodeInfo, _ map[string]string) bool {
		return insufficient(pl.want.MemoryBytes, pl.used[n.GetMetadata().GetName()].MemoryBytes, n.GetCapacity().GetAllocatableMemoryBytes())
	}},
	{reasonAffinity, func(pl *placement, _ *ordov1.NodeInfo, l map[string]string) bool {
		return breaksAffinity(pl.pod, pl.ns, l, pl.neighbours, pl.nodeLabelsByName)
	}},
	{reasonAntiAffinity, func(pl *placement, _ *ordov1.NodeInfo, l map[string]string) bool {
		return breaksAntiAffinity(pl.pod, pl.ns, l, pl.neighbours, pl.nodeLabelsByName)
	}},
	{reasonExistingAntiAffinity, func(pl *placement, _ *ordov1.NodeInfo, l map[string]string) bool {
		return breaksExistingAntiAffinity(pl.pod, pl.ns, l, pl.neighbours, pl.nodeLabelsByName)
	}},
	{reasonSpread, func(pl *placement, _ *ordov1.NodeInfo, l map[string]string) bool { return pl.spread.breaks(l) }},
}

// infeasible is the reason of the first checker the node fails, or "".
func (pl *placement) infeasible(n *ordov1.NodeInfo, labels map[string]string) string {
	for _, c := range checkers {
		if c.fails(pl, n, labels) {
			return c.reason
		}
	}
	return ""
}

// score is how much the pod prefers a node with these labels.
func (pl *placement) score(labels map[string]string) int64 {
	return preferenceScore(pl.pod, pl.ns, labels, pl.neighbours, pl.nodeLabelsByName) - pl.spread.penalty(labels)
}
