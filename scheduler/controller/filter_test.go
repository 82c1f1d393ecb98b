package controller

import (
	"testing"
)

// A pod goes to the node its volume claims allow; one no node can take stays
// Pending with the filter's reason and blocks the ordinals after it.
func TestNodeFiltersSteerPlacement(t *testing.T) {
	set := testSet("web", 3, "")
	nodes := threeReadyNodes()
	in := Input{Set: set, Nodes: nodes, Now: t0, NodeFilters: map[string]NodeFilter{
		"web-0": {Nodes: map[string]bool{"node-3": true}},
		"web-1": {Nodes: map[string]bool{"node-2": true}},
		"web-2": {Nodes: map[string]bool{}, Reason: "no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage"},
	}}
	r := Reconcile(in)
	if got := kinds(r); got != "CreatePod web-0" || r.Actions[0].Node != "node-3" {
		t.Fatalf("actions %s on %q, want web-0 on node-3", got, r.Actions[0].Node)
	}
	p0 := readyPod(set, 0, "node-3", t0)
	p1 := readyPod(set, 1, "node-1", t0) // placed before its claim was pinned
	p1.NodeName = ""
	in.Pods = append(in.Pods, p0, p1)
	r = Reconcile(in)
	if got := kinds(r); got != "BindPod web-1" || r.Actions[0].Node != "node-2" {
		t.Fatalf("actions %s on %q, want web-1 bound to node-2", got, r.Actions[0].Node)
	}
	p1.NodeName = "node-2"
	r = Reconcile(in)
	if got := kinds(r); got != "CreatePod web-2" || r.Actions[0].Node != "" ||
		r.Actions[0].Pod.GetStatus().GetMessage() != "no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage" {
		t.Fatalf("actions %s, pod %v", got, r.Actions[0].Pod)
	}
}

func TestNodeFilterExcludesEveryNode(t *testing.T) {
	set := testSet("web", 1, "")
	p := NewPod(set, 0, Revision(set))
	node, why := PlaceFiltered(p, threeReadyNodes(), nil, &NodeFilter{Nodes: map[string]bool{"node-9": true}})
	if node != "" || why != "0/3 nodes are available: 3 node(s) had volume node affinity conflict." {
		t.Fatalf("PlaceFiltered = %q %q", node, why)
	}
	node, _ = PlaceFiltered(p, threeReadyNodes(), nil, nil)
	if node == "" {
		t.Fatal("no filter: not placed")
	}
}
