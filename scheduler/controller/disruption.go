package controller

import (
	"math"
	"strconv"
	"strings"

	lsel "github.com/ordoproject/ordo/internal/labels"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// DisruptionStatus computes a PodDisruptionBudget's status as Kubernetes'
// disruption controller does: the pods it selects (in its namespace), how
// many are healthy (Running, Ready, not being deleted), how many must stay
// healthy (minAvailable, or expected minus maxUnavailable; percentages of
// the expected pods rounded up), and how many may be disrupted now. The
// expected pods are the replicas of the sets whose pods it selects.
func DisruptionStatus(pdb *ordov1.PodDisruptionBudget, pods []*ordov1.Pod, sets []*ordov1.StatefulSet) *ordov1.PodDisruptionBudgetStatus {
	ns := namespaceOf(pdb.GetMetadata())
	sel := pdb.GetSpec().GetSelector()
	st := &ordov1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.GetMetadata().GetGeneration()}
	owners := map[string]bool{}
	for _, p := range pods {
		if namespaceOf(p.GetMetadata()) != ns || sel == nil || !lsel.SelectorMatches(sel, p.GetMetadata().GetLabels()) {
			continue
		}
		if p.GetSetName() != "" {
			owners[p.GetSetName()] = true
		} else {
			st.ExpectedPods++
		}
		if p.GetMetadata().GetDeletionTime() == nil && p.GetStatus().GetReady() &&
			p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING {
			st.CurrentHealthy++
		}
	}
	for _, s := range sets {
		if namespaceOf(s.GetMetadata()) == ns && owners[s.GetMetadata().GetName()] {
			st.ExpectedPods += s.GetSpec().GetReplicas()
		}
	}
	spec := pdb.GetSpec()
	switch {
	case spec.GetMinAvailable() != "":
		st.DesiredHealthy = scaled(spec.GetMinAvailable(), st.ExpectedPods)
	case spec.GetMaxUnavailable() != "":
		st.DesiredHealthy = st.ExpectedPods - scaled(spec.GetMaxUnavailable(), st.ExpectedPods)
		if st.DesiredHealthy < 0 {
			st.DesiredHealthy = 0
		}
	}
	if allowed := st.CurrentHealthy - st.DesiredHealthy; allowed > 0 {
		st.DisruptionsAllowed = allowed
	}
	return st
}

// scaled is an integer, or a percentage of total rounded up.
func scaled(v string, total int32) int32 {
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		n, err := strconv.Atoi(pct)
		if err != nil {
			return 0
		}
		return int32(math.Ceil(float64(n) * float64(total) / 100))
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return int32(n)
}
