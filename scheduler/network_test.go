package scheduler

import (
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestPodCIDRsStableAcrossRestartAndRoutes(t *testing.T) {
	dir := t.TempDir()
	h := startHarness(t, dir)
	register := func(name, addr string) *ordov1.RegisterResponse {
		t.Helper()
		resp, err := h.node.Register(h.ctx(), &ordov1.RegisterRequest{NodeName: name, Addresses: []string{addr}})
		if err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
		return resp
	}
	n1 := register("node-1", "10.77.0.11").GetNetwork()
	n2 := register("node-2", "10.77.0.12").GetNetwork()
	if n1.GetPodCidr() == "" || n1.GetPodCidr() == n2.GetPodCidr() {
		t.Fatalf("pod CIDRs %q and %q", n1.GetPodCidr(), n2.GetPodCidr())
	}
	if n2.GetClusterCidr() != DefaultClusterCIDR || n2.GetClusterDomain() != "cluster.local" {
		t.Errorf("network config %v", n2)
	}
	if r := n2.GetRoutes(); len(r) != 1 || r[0].GetNodeName() != "node-1" || r[0].GetPodCidr() != n1.GetPodCidr() || r[0].GetAddress() != "10.77.0.11" {
		t.Errorf("node-2's routes %v, want node-1's pod CIDR via 10.77.0.11", r)
	}
	h.restart()
	// Registered again, in the other order, they keep their blocks.
	if got := register("node-2", "10.77.0.12").GetNetwork().GetPodCidr(); got != n2.GetPodCidr() {
		t.Errorf("node-2 after restart: %q, want %q", got, n2.GetPodCidr())
	}
	if got := register("node-1", "10.77.0.11").GetNetwork(); got.GetPodCidr() != n1.GetPodCidr() || len(got.GetRoutes()) != 1 {
		t.Errorf("node-1 after restart: %v, want %q and a route to node-2", got, n1.GetPodCidr())
	}
	list, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "nodes"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list.GetNodes() {
		if n.GetPodCidr() == "" {
			t.Errorf("node %s has no pod CIDR", n.GetMetadata().GetName())
		}
	}
}
