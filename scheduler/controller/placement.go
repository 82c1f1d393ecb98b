package controller

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	lsel "github.com/ordoproject/ordo/internal/labels"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// LabelHostname is the node label every node carries with its own name.
const LabelHostname = "kubernetes.io/hostname"

// Reasons a node is not feasible, worded as kube-scheduler words them.
const (
	reasonNodeNotReady         = "node(s) were not ready"
	reasonNodeAffinity         = "node(s) didn't match Pod's node affinity/selector"
	reasonTooManyPods          = "Too many pods"
	reasonAntiAffinity         = "node(s) didn't match pod anti-affinity rules"
	reasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
	reasonVolumeNodeAffinity   = "node(s) had volume node affinity conflict"
	reasonAffinity             = "node(s) didn't match pod affinity rules"
	reasonSpread               = "node(s) didn't match pod topology spread constraints"
	reasonInsufficientCPU      = "Insufficient cpu"
	reasonInsufficientMemory   = "Insufficient memory"
)

// Place chooses a node for pod among nodes, given every pod already in the
// cluster. A node is feasible when it is Ready, its labels satisfy the pod's
// node selector and required node affinity, it has room under max_pods
// (every bound pod that is not Gone counts, terminating ones included), and
// no required pod anti-affinity rule (the pod's own, or an existing pod's
// against this pod) is broken. Among feasible nodes the one with the fewest
// pods wins, ties broken by name.
//
// When no node fits, node is empty and reason says why, per node, the way
// kube-scheduler does: "0/3 nodes are available: 1 Too many pods, 2 node(s)
// didn't match pod anti-affinity rules."
func Place(pod *ordov1.Pod, nodes []*ordov1.NodeInfo, allPods []*ordov1.Pod) (node string, reason string) {
	return PlaceFiltered(pod, nodes, allPods, nil)
}

// PlaceFiltered is Place restricted by filter (nil: no restriction): a node
// the filter does not allow is not feasible ("node(s) had volume node
// affinity conflict"), and a filter that allows no node at all makes its
// Reason the pod's.
func PlaceFiltered(pod *ordov1.Pod, nodes []*ordov1.NodeInfo, allPods []*ordov1.Pod, filter *NodeFilter) (node string, reason string) {
	return placeChecked(pod, nodes, allPods, filter, nil)
}

// A Checker is one more feasibility check of a node for a pod, run after
// the built-in ones: it returns why the node cannot take the pod, or "".
type Checker func(n *ordov1.NodeInfo, labels map[string]string) string

// placeChecked is PlaceFiltered with an extra checker (nil: none). When the
// checker alone rules out every node it was asked about and no node fits,
// its first reason is the pod's (it is worded for a person: "no
// PersistentVolume for claim www-web-2 on node node-1: ...").
func placeChecked(pod *ordov1.Pod, nodes []*ordov1.NodeInfo, allPods []*ordov1.Pod, filter *NodeFilter, check Checker) (node string, reason string) {
	if filter != nil && filter.Nodes != nil && len(filter.Nodes) == 0 {
		if filter.Reason != "" {
			return "", filter.Reason
		}
		return "", fmt.Sprintf("0/%d nodes are available: %d %s.", len(nodes), len(nodes), reasonVolumeNodeAffinity)
	}
	if len(nodes) == 0 {
		return "", "0/0 nodes are available: no nodes are registered."
	}
	pl := newPlacement(pod, nodes, allPods, filter)
	failures := make(map[string]int)
	type candidate struct {
		node   *ordov1.NodeInfo
		labels map[string]string
		score  int64
	}
	var cands []candidate
	for _, n := range nodes {
		labels := pl.labelsOf[n.GetMetadata().GetName()]
		if why := pl.infeasible(n, labels); why != "" {
			failures[why]++
			continue
		}
		cands = append(cands, candidate{n, labels, pl.score(labels)})
	}
	// The most preferred node, then the one with the fewest pods, then by name.
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.score != b.score {
			return a.score > b.score
		}
		an, bn := a.node.GetMetadata().GetName(), b.node.GetMetadata().GetName()
		if pl.count[an] != pl.count[bn] {
			return pl.count[an] < pl.count[bn]
		}
		return an < bn
	})
	// The last checker (volumes) is the costliest: it runs in order of
	// preference until a node passes it.
	checkWhy := ""
	for _, c := range cands {
		if check == nil {
			return c.node.GetMetadata().GetName(), ""
		}
		w := check(c.node, c.labels)
		if w == "" {
			return c.node.GetMetadata().GetName(), ""
		}
		if checkWhy == "" {
			checkWhy = w
		}
		failures[reasonVolumeNodeAffinity]++
	}
	if checkWhy != "" {
		return "", checkWhy
	}
	parts := make([]string, 0, len(failures))
	for why, c := range failures {
		parts = append(parts, strconv.Itoa(c)+" "+why)
	}
	sort.Strings(parts)
	return "", fmt.Sprintf("0/%d nodes are available: %s.", len(nodes), strings.Join(parts, ", "))
}

// nodeLabels are the node's labels, always including kubernetes.io/hostname.
func nodeLabels(n *ordov1.NodeInfo) map[string]string {
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

// matchesNodeSelector: every node_selector pair is a node label, and, when
// required node affinity is given, at least one of its terms matches.
func matchesNodeSelector(spec *ordov1.PodSpec, labels map[string]string) bool {
	for k, v := range spec.GetNodeSelector() {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	terms := spec.GetAffinity().GetNodeAffinityRequired()
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		if lsel.TermMatches(t, labels) {
			return true
		}
	}
	return false
}

// matchesLabelSelector: a nil selector matches nothing, an empty one everything.
func matchesLabelSelector(s *ordov1.LabelSelector, labels map[string]string) bool {
	return s != nil && lsel.SelectorMatches(s, labels)
}

// breaksAntiAffinity: placing pod on a node with labels nodeLbls would put it in
// the same topology domain as a pod its required anti-affinity excludes.
// A node without the topology key is in no domain and cannot conflict.
func breaksAntiAffinity(pod *ordov1.Pod, ns string, nodeLbls map[string]string, others []*ordov1.Pod, labelsOfNode func(string) map[string]string) bool {
	for _, term := range pod.GetSpec().GetAffinity().GetPodAntiAffinityRequired() {
		key := term.GetTopologyKey()
		domain, ok := nodeLbls[key]
		if key == "" || !ok {
			continue
		}
		for _, o := range others {
			if namespaceOf(o.GetMetadata()) != ns || !matchesLabelSelector(term.GetLabelSelector(), o.GetMetadata().GetLabels()) {
				continue
			}
			if d, ok := labelsOfNode(o.GetNodeName())[key]; ok && d == domain {
				return true
			}
		}
	}
	return false
}

// breaksExistingAntiAffinity: an existing pod's required anti-affinity excludes
// pod from that pod's topology domain, and the node is in it.
func breaksExistingAntiAffinity(pod *ordov1.Pod, ns string, nodeLbls map[string]string, others []*ordov1.Pod, labelsOfNode func(string) map[string]string) bool {
	for _, o := range others {
		if namespaceOf(o.GetMetadata()) != ns {
			continue
		}
		for _, term := range o.GetSpec().GetAffinity().GetPodAntiAffinityRequired() {
			key := term.GetTopologyKey()
			domain, ok := nodeLbls[key]
			if key == "" || !ok || !matchesLabelSelector(term.GetLabelSelector(), pod.GetMetadata().GetLabels()) {
				continue
			}
			if d, ok := labelsOfNode(o.GetNodeName())[key]; ok && d == domain {
				return true
			}
		}
	}
	return false
}

// Requests are what a pod asks of its node.
type Requests struct {
	CPUMillis   int64
	MemoryBytes int64
}

// Add sums two requests.
func (r Requests) Add(o Requests) Requests {
	return Requests{CPUMillis: r.CPUMillis + o.CPUMillis, MemoryBytes: r.MemoryBytes + o.MemoryBytes}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// containerRequests is a container's requests; a limit stands for a
// missing request, as Kubernetes defaults it.
func containerRequests(c *ordov1.Container) Requests {
	r := c.GetResources()
	cpu, mem := r.GetCpuRequestMillis(), r.GetMemoryRequestBytes()
	if cpu == 0 {
		cpu = r.GetCpuLimitMillis()
	}
	if mem == 0 {
		mem = r.GetMemoryLimitBytes()
	}
	return Requests{CPUMillis: cpu, MemoryBytes: mem}
}

// PodRequests is the effective request of a pod as Kubernetes computes it:
// the larger of the sum of its containers and sidecars and of each init
// container (with the sidecars started before it).
func PodRequests(spec *ordov1.PodSpec) Requests {
	var app, sidecars, initMax Requests
	for _, c := range spec.GetContainers() {
		app = app.Add(containerRequests(c))
	}
	for _, c := range spec.GetInitContainers() {
		r := containerRequests(c)
		if c.GetRestartPolicy() == "Always" {
			sidecars = sidecars.Add(r)
			continue
		}
		r = r.Add(sidecars)
		initMax = Requests{CPUMillis: max64(initMax.CPUMillis, r.CPUMillis), MemoryBytes: max64(initMax.MemoryBytes, r.MemoryBytes)}
	}
	app = app.Add(sidecars)
	return Requests{CPUMillis: max64(app.CPUMillis, initMax.CPUMillis), MemoryBytes: max64(app.MemoryBytes, initMax.MemoryBytes)}
}

// insufficient: a node that reports what it can allocate (allocatable > 0)
// has no room for want beside used.
func insufficient(want, used, allocatable int64) bool {
	return allocatable > 0 && want > 0 && used+want > allocatable
}
