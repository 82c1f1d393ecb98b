package controller

import (
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func zoneNodes() []*ordov1.NodeInfo {
	nodes := threeReadyNodes()
	for i, z := range []string{"a", "a", "b"} {
		nodes[i].Metadata.Labels = map[string]string{"zone": z, LabelHostname: nodes[i].Metadata.Name}
	}
	return nodes
}

func TestPreferredNodeAffinityWins(t *testing.T) {
	set := testSet("db", 1, "")
	set.Spec.Template.Spec.Affinity = &ordov1.Affinity{NodeAffinityPreferred: []*ordov1.PreferredSchedulingTerm{
		{Weight: 10, Preference: &ordov1.NodeSelectorTerm{MatchExpressions: []*ordov1.NodeSelectorRequirement{{Key: "zone", Operator: "In", Values: []string{"b"}}}}},
	}}
	if node, why := Place(NewPod(set, 0, Revision(set)), zoneNodes(), nil); node != "node-3" {
		t.Fatalf("Place = %q %q, want node-3 in the preferred zone", node, why)
	}
}

func TestPreferredAntiAffinitySpreadsPods(t *testing.T) {
	set := testSet("zk", 3, "")
	sel := &ordov1.LabelSelector{MatchLabels: set.GetSpec().GetSelector().GetMatchLabels()}
	set.Spec.Template.Spec.Affinity = &ordov1.Affinity{PodAntiAffinityPreferred: []*ordov1.WeightedPodAffinityTerm{
		{Weight: 100, PodAffinityTerm: &ordov1.PodAffinityTerm{LabelSelector: sel, TopologyKey: "zone"}},
	}}
	p0 := readyPod(set, 0, "node-1", t0)
	// Zone a has a zk pod: zone b (node-3) wins although node-2 is emptier by name order.
	if node, why := Place(NewPod(set, 1, Revision(set)), zoneNodes(), []*ordov1.Pod{p0}); node != "node-3" {
		t.Fatalf("Place = %q %q, want node-3", node, why)
	}
}

func TestRequiredPodAffinity(t *testing.T) {
	web := testSet("web", 1, "")
	cache := testSet("cache", 1, "")
	cache.Spec.Template.Spec.Affinity = &ordov1.Affinity{PodAffinityRequired: []*ordov1.PodAffinityTerm{
		{LabelSelector: &ordov1.LabelSelector{MatchLabels: web.GetSpec().GetSelector().GetMatchLabels()}, TopologyKey: "zone"},
	}}
	w0 := readyPod(web, 0, "node-3", t0)
	if node, why := Place(NewPod(cache, 0, Revision(cache)), zoneNodes(), []*ordov1.Pod{w0}); node != "node-3" {
		t.Fatalf("Place = %q %q, want node-3 (zone b, with web-0)", node, why)
	}
	node, why := Place(NewPod(cache, 0, Revision(cache)), zoneNodes(), nil)
	if node != "" || why != "0/3 nodes are available: 3 node(s) didn't match pod affinity rules." {
		t.Fatalf("without web: Place = %q %q", node, why)
	}
}

func TestTopologySpreadDoNotSchedule(t *testing.T) {
	set := testSet("kafka", 3, "")
	sel := &ordov1.LabelSelector{MatchLabels: set.GetSpec().GetSelector().GetMatchLabels()}
	set.Spec.Template.Spec.TopologySpreadConstraints = []*ordov1.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule", LabelSelector: sel},
	}
	p0 := readyPod(set, 0, "node-1", t0)
	if node, why := Place(NewPod(set, 1, Revision(set)), zoneNodes(), []*ordov1.Pod{p0}); node != "node-3" {
		t.Fatalf("Place = %q %q, want node-3 (zone b)", node, why)
	}
	nodes := zoneNodes()
	nodes[2].Ready = false // zone b unavailable: node-3 not Ready
	if node, why := Place(NewPod(set, 1, Revision(set)), nodes, []*ordov1.Pod{p0}); node == "" {
		t.Fatalf("only zone a eligible: %s", why)
	}
}
