package controller

import (
	lsel "github.com/ordoproject/ordo/internal/labels"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Soft placement rules, scored as kube-scheduler's plugins weigh them:
// preferred node affinity adds a term's weight when the node matches it;
// preferred pod affinity adds, and preferred pod anti-affinity subtracts, a
// term's weight for every matching pod in the node's topology domain; a
// ScheduleAnyway spread constraint subtracts the matching pods already in
// the node's domain. Required pod affinity and DoNotSchedule spread
// constraints are feasibility checks.

// preferenceScore is how much pod prefers a node with labels nodeLbls.
func preferenceScore(pod *ordov1.Pod, ns string, nodeLbls map[string]string, others []*ordov1.Pod, labelsOfNode func(string) map[string]string) int64 {
	aff := pod.GetSpec().GetAffinity()
	var score int64
	for _, t := range aff.GetNodeAffinityPreferred() {
		if lsel.TermMatches(t.GetPreference(), nodeLbls) {
			score += int64(t.GetWeight())
		}
	}
	for _, w := range aff.GetPodAffinityPreferred() {
		score += int64(w.GetWeight()) * int64(inDomain(w.GetPodAffinityTerm(), ns, nodeLbls, others, labelsOfNode))
	}
	for _, w := range aff.GetPodAntiAffinityPreferred() {
		score -= int64(w.GetWeight()) * int64(inDomain(w.GetPodAffinityTerm(), ns, nodeLbls, others, labelsOfNode))
	}
	return score
}

// inDomain counts the pods term selects that run in the node's domain of
// the term's topology key.
func inDomain(term *ordov1.PodAffinityTerm, ns string, nodeLbls map[string]string, others []*ordov1.Pod, labelsOfNode func(string) map[string]string) int {
	key := term.GetTopologyKey()
	domain, ok := nodeLbls[key]
	if key == "" || !ok {
		return 0
	}
	n := 0
	for _, o := range others {
		if namespaceOf(o.GetMetadata()) != ns || !matchesLabelSelector(term.GetLabelSelector(), o.GetMetadata().GetLabels()) {
			continue
		}
		if d, ok := labelsOfNode(o.GetNodeName())[key]; ok && d == domain {
			n++
		}
	}
	return n
}

// breaksAffinity: a required pod affinity term has no matching pod in the
// node's domain. As in Kubernetes, the first pod of a group that matches its
// own term may go anywhere when no pod matches it yet.
func breaksAffinity(pod *ordov1.Pod, ns string, nodeLbls map[string]string, others []*ordov1.Pod, labelsOfNode func(string) map[string]string) bool {
	for _, term := range pod.GetSpec().GetAffinity().GetPodAffinityRequired() {
		if inDomain(term, ns, nodeLbls, others, labelsOfNode) > 0 {
			continue
		}
		anywhere := false
		for _, o := range others {
			if namespaceOf(o.GetMetadata()) == ns && matchesLabelSelector(term.GetLabelSelector(), o.GetMetadata().GetLabels()) {
				anywhere = true
				break
			}
		}
		if anywhere || !matchesLabelSelector(term.GetLabelSelector(), pod.GetMetadata().GetLabels()) {
			return true
		}
	}
	return false
}

// spread counts, for each topology spread constraint of a pod, the matching
// pods in every domain of the eligible nodes.
type spread struct {
	constraints []*ordov1.TopologySpreadConstraint
	counts      []map[string]int // per constraint: domain → matching pods
}

func newSpread(pod *ordov1.Pod, ns string, nodes []*ordov1.NodeInfo, labelsOf map[string]map[string]string, others []*ordov1.Pod, labelsOfNode func(string) map[string]string) *spread {
	s := &spread{constraints: pod.GetSpec().GetTopologySpreadConstraints()}
	for _, c := range s.constraints {
		counts := map[string]int{}
		key := c.GetTopologyKey()
		for _, n := range nodes {
			l := labelsOf[n.GetMetadata().GetName()]
			if d, ok := l[key]; ok && n.GetReady() && matchesNodeSelector(pod.GetSpec(), l) {
				counts[d] += 0
			}
		}
		for _, o := range others {
			if namespaceOf(o.GetMetadata()) != ns || !matchesLabelSelector(c.GetLabelSelector(), o.GetMetadata().GetLabels()) {
				continue
			}
			if d, ok := labelsOfNode(o.GetNodeName())[key]; ok {
				if _, eligible := counts[d]; eligible {
					counts[d]++
				}
			}
		}
		s.counts = append(s.counts, counts)
	}
	return s
}

func minCount(m map[string]int) int {
	first, min := true, 0
	for _, v := range m {
		if first || v < min {
			first, min = false, v
		}
	}
	return min
}

// breaks: placing the pod on a node with these labels would make a
// DoNotSchedule constraint's skew exceed maxSkew, or the node lacks its key.
func (s *spread) breaks(nodeLbls map[string]string) bool {
	for i, c := range s.constraints {
		if c.GetWhenUnsatisfiable() == "ScheduleAnyway" {
			continue
		}
		d, ok := nodeLbls[c.GetTopologyKey()]
		if !ok {
			return true
		}
		maxSkew := int(c.GetMaxSkew())
		if maxSkew < 1 {
			maxSkew = 1
		}
		if s.counts[i][d]+1-minCount(s.counts[i]) > maxSkew {
			return true
		}
	}
	return false
}

// penalty is the matching pods already in the node's domains of the
// ScheduleAnyway constraints.
func (s *spread) penalty(nodeLbls map[string]string) int64 {
	var p int64
	for i, c := range s.constraints {
		if c.GetWhenUnsatisfiable() != "ScheduleAnyway" {
			continue
		}
		if d, ok := nodeLbls[c.GetTopologyKey()]; ok {
			p += int64(s.counts[i][d])
		}
	}
	return p
}
