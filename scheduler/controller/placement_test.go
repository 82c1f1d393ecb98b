package controller

import (
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func testNode(name string, ready bool, maxPods int32, kv ...string) *ordov1.NodeInfo {
	labels := map[string]string{LabelHostname: name}
	for i := 0; i+1 < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return &ordov1.NodeInfo{
		Metadata: &ordov1.ObjectMeta{Name: name, Labels: labels},
		Ready:    ready,
		Capacity: &ordov1.NodeCapacity{MaxPods: maxPods},
	}
}

func boundPod(name, node string, kv ...string) *ordov1.Pod {
	labels := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return &ordov1.Pod{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec:     &ordov1.PodSpec{},
		NodeName: node,
		Status:   &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_RUNNING, Ready: true},
	}
}

func antiAffinity(key string, kv ...string) *ordov1.Affinity {
	sel := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		sel[kv[i]] = kv[i+1]
	}
	return &ordov1.Affinity{PodAntiAffinityRequired: []*ordov1.PodAffinityTerm{{
		LabelSelector: &ordov1.LabelSelector{MatchLabels: sel},
		TopologyKey:   key,
	}}}
}

func nodeAffinity(terms ...[]*ordov1.NodeSelectorRequirement) *ordov1.Affinity {
	a := &ordov1.Affinity{}
	for _, t := range terms {
		a.NodeAffinityRequired = append(a.NodeAffinityRequired, &ordov1.NodeSelectorTerm{MatchExpressions: t})
	}
	return a
}

func req(key, op string, values ...string) *ordov1.NodeSelectorRequirement {
	return &ordov1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func TestPlace(t *testing.T) {
	threeNodes := []*ordov1.NodeInfo{
		testNode("node-1", true, 110, "zone", "a", "disk", "ssd"),
		testNode("node-2", true, 110, "zone", "b"),
		testNode("node-3", true, 110, "zone", "b", "disk", "hdd"),
	}
	mongoLabels := []string{"app", "mongo"}
	terminating := boundPod("mongo-9", "node-1", mongoLabels...)
	terminating.Metadata.DeletionTime = timestamppb.Now()
	gone := boundPod("old-0", "node-1")
	gone.Status.Phase = ordov1.PodPhase_POD_PHASE_GONE

	for _, c := range []struct {
		name       string
		spec       *ordov1.PodSpec
		labels     []string
		nodes      []*ordov1.NodeInfo
		pods       []*ordov1.Pod
		wantNode   string
		wantReason string
	}{
		{
			name:     "fewest pods wins",
			nodes:    threeNodes,
			pods:     []*ordov1.Pod{boundPod("a", "node-1"), boundPod("b", "node-2"), boundPod("c", "node-1")},
			wantNode: "node-3",
		},
		{
			name:     "ties broken by name",
			nodes:    []*ordov1.NodeInfo{threeNodes[2], threeNodes[1], threeNodes[0]},
			wantNode: "node-1",
		},
		{
			name:     "unbound and gone pods do not count",
			nodes:    threeNodes[:2],
			pods:     []*ordov1.Pod{boundPod("x", ""), gone, boundPod("y", "node-2")},
			wantNode: "node-1",
		},
		{
			name:     "node selector",
			spec:     &ordov1.PodSpec{NodeSelector: map[string]string{"zone": "b"}},
			nodes:    threeNodes,
			pods:     []*ordov1.Pod{boundPod("a", "node-2")},
			wantNode: "node-3",
		},
		{
			name:       "node selector matches nothing",
			spec:       &ordov1.PodSpec{NodeSelector: map[string]string{"zone": "c"}},
			nodes:      threeNodes,
			wantReason: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:     "hostname is a node label",
			spec:     &ordov1.PodSpec{NodeSelector: map[string]string{LabelHostname: "node-2"}},
			nodes:    threeNodes,
			wantNode: "node-2",
		},
		{
			name:     "hostname label derived when a node lacks it",
			spec:     &ordov1.PodSpec{NodeSelector: map[string]string{LabelHostname: "bare"}},
			nodes:    []*ordov1.NodeInfo{{Metadata: &ordov1.ObjectMeta{Name: "bare"}, Ready: true}},
			wantNode: "bare",
		},
		{
			name:     "affinity In",
			spec:     &ordov1.PodSpec{Affinity: nodeAffinity([]*ordov1.NodeSelectorRequirement{req("disk", "In", "hdd", "nvme")})},
			nodes:    threeNodes,
			wantNode: "node-3",
		},
		{
			name:  "affinity NotIn matches nodes without the key",
			spec:  &ordov1.PodSpec{Affinity: nodeAffinity([]*ordov1.NodeSelectorRequirement{req("disk", "NotIn", "ssd")})},
			nodes: threeNodes,
			pods:  []*ordov1.Pod{boundPod("a", "node-3")},
			// node-2 has no disk label, node-3 has hdd but one pod.
			wantNode: "node-2",
		},
		{
			name:     "affinity Exists",
			spec:     &ordov1.PodSpec{Affinity: nodeAffinity([]*ordov1.NodeSelectorRequirement{req("disk", "Exists")})},
			nodes:    threeNodes,
			pods:     []*ordov1.Pod{boundPod("a", "node-1")},
			wantNode: "node-3",
		},
		{
			name:     "affinity DoesNotExist",
			spec:     &ordov1.PodSpec{Affinity: nodeAffinity([]*ordov1.NodeSelectorRequirement{req("disk", "DoesNotExist")})},
			nodes:    threeNodes,
			wantNode: "node-2",
		},
		{
			name: "affinity expressions of a term are ANDed",
			spec: &ordov1.PodSpec{Affinity: nodeAffinity([]*ordov1.NodeSelectorRequirement{
				req("zone", "In", "b"), req("disk", "Exists"),
			})},
			nodes:    threeNodes,
			wantNode: "node-3",
		},
		{
			name: "affinity terms are ORed",
			spec: &ordov1.PodSpec{Affinity: nodeAffinity(
				[]*ordov1.NodeSelectorRequirement{req("zone", "In", "nowhere")},
				[]*ordov1.NodeSelectorRequirement{req("disk", "In", "ssd")},
			)},
			nodes:    threeNodes,
			wantNode: "node-1",
		},
		{
			name:       "affinity unknown operator matches nothing",
			spec:       &ordov1.PodSpec{Affinity: nodeAffinity([]*ordov1.NodeSelectorRequirement{req("zone", "Like", "a")})},
			nodes:      threeNodes,
			wantReason: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:       "not ready nodes are excluded",
			nodes:      []*ordov1.NodeInfo{testNode("node-1", false, 110), testNode("node-2", false, 110)},
			wantReason: "0/2 nodes are available: 2 node(s) were not ready.",
		},
		{
			name:     "not ready node skipped even when emptiest",
			nodes:    []*ordov1.NodeInfo{testNode("node-1", false, 110), testNode("node-2", true, 110)},
			pods:     []*ordov1.Pod{boundPod("a", "node-2")},
			wantNode: "node-2",
		},
		{
			name:  "capacity counts terminating pods",
			nodes: []*ordov1.NodeInfo{testNode("node-1", true, 1), testNode("node-2", true, 2)},
			pods: []*ordov1.Pod{
				terminating,
				boundPod("b", "node-2"), boundPod("c", "node-2"),
			},
			wantReason: "0/2 nodes are available: 2 Too many pods.",
		},
		{
			name:     "capacity leaves room",
			nodes:    []*ordov1.NodeInfo{testNode("node-1", true, 1), testNode("node-2", true, 3)},
			pods:     []*ordov1.Pod{boundPod("a", "node-1"), boundPod("b", "node-2"), boundPod("c", "node-2")},
			wantNode: "node-2",
		},
		{
			name:     "anti-affinity on hostname",
			spec:     &ordov1.PodSpec{Affinity: antiAffinity(LabelHostname, mongoLabels...)},
			labels:   mongoLabels,
			nodes:    threeNodes,
			pods:     []*ordov1.Pod{boundPod("mongo-0", "node-3", mongoLabels...), boundPod("other", "node-2"), boundPod("other2", "node-2")},
			wantNode: "node-1",
		},
		{
			name:   "anti-affinity ignores terminating pods and other namespaces",
			spec:   &ordov1.PodSpec{Affinity: antiAffinity(LabelHostname, mongoLabels...)},
			labels: mongoLabels,
			nodes:  threeNodes[:1],
			pods: func() []*ordov1.Pod {
				p := boundPod("mongo-0", "node-1", mongoLabels...)
				p.Metadata.Namespace = "elsewhere"
				return []*ordov1.Pod{terminating, p}
			}(),
			wantNode: "node-1",
		},
		{
			name:   "anti-affinity on zone",
			spec:   &ordov1.PodSpec{Affinity: antiAffinity("zone", mongoLabels...)},
			labels: mongoLabels,
			nodes:  threeNodes,
			pods:   []*ordov1.Pod{boundPod("mongo-0", "node-2", mongoLabels...), boundPod("x", "node-1"), boundPod("y", "node-1")},
			// node-3 shares zone b with node-2.
			wantNode: "node-1",
		},
		{
			name:   "anti-affinity: node without the topology key cannot conflict",
			spec:   &ordov1.PodSpec{Affinity: antiAffinity("rack", mongoLabels...)},
			labels: mongoLabels,
			nodes:  threeNodes[:1],
			pods:   []*ordov1.Pod{boundPod("mongo-0", "node-1", mongoLabels...)},
			// no node has a rack label
			wantNode: "node-1",
		},
		{
			name:       "anti-affinity full",
			spec:       &ordov1.PodSpec{Affinity: antiAffinity(LabelHostname, mongoLabels...)},
			labels:     mongoLabels,
			nodes:      threeNodes,
			pods:       []*ordov1.Pod{boundPod("mongo-0", "node-1", mongoLabels...), boundPod("mongo-1", "node-2", mongoLabels...), boundPod("mongo-2", "node-3", mongoLabels...)},
			wantReason: "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
		},
		{
			name:   "existing pod's anti-affinity is honoured",
			labels: mongoLabels,
			nodes:  threeNodes[:2],
			pods: func() []*ordov1.Pod {
				p := boundPod("guard", "node-1", "role", "guard")
				p.Spec.Affinity = antiAffinity(LabelHostname, mongoLabels...)
				return []*ordov1.Pod{p, boundPod("a", "node-2"), boundPod("b", "node-2")}
			}(),
			wantNode: "node-2",
		},
		{
			name:   "reasons counted per node",
			spec:   &ordov1.PodSpec{NodeSelector: map[string]string{"zone": "b"}, Affinity: antiAffinity(LabelHostname, mongoLabels...)},
			labels: mongoLabels,
			nodes: []*ordov1.NodeInfo{
				testNode("node-1", true, 110, "zone", "a"),
				testNode("node-2", true, 110, "zone", "b"),
				testNode("node-3", true, 110, "zone", "b"),
				testNode("node-4", true, 1, "zone", "b"),
				testNode("node-5", false, 110, "zone", "b"),
			},
			pods: []*ordov1.Pod{
				boundPod("mongo-0", "node-2", mongoLabels...),
				boundPod("mongo-1", "node-3", mongoLabels...),
				boundPod("x", "node-4"),
			},
			wantReason: "0/5 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector, " +
				"1 node(s) were not ready, 2 node(s) didn't match pod anti-affinity rules.",
		},
		{
			name:       "no nodes",
			wantReason: "0/0 nodes are available: no nodes are registered.",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			if spec == nil {
				spec = &ordov1.PodSpec{}
			}
			p := boundPod("new-0", "", c.labels...)
			p.Spec = spec
			node, reason := Place(p, c.nodes, c.pods)
			if node != c.wantNode {
				t.Errorf("node = %q, want %q (reason %q)", node, c.wantNode, reason)
			}
			if c.wantNode != "" && reason != "" {
				t.Errorf("placed with reason %q", reason)
			}
			if c.wantReason != "" && reason != c.wantReason {
				t.Errorf("reason = %q\nwant     %q", reason, c.wantReason)
			}
		})
	}
}

func TestPlacementCountsRequests(t *testing.T) {
	nodes := threeReadyNodes()
	for i, n := range nodes {
		n.Capacity.AllocatableCpuMillis = 1000
		n.Capacity.AllocatableMemoryBytes = 1 << 30
		if i == 2 {
			n.Capacity.AllocatableMemoryBytes = 4 << 30
		}
	}
	set := testSet("db", 1, "")
	set.Spec.Template.Spec.Containers[0].Resources = &ordov1.ResourceRequirements{CpuRequestMillis: 600, MemoryLimitBytes: 2 << 30}
	p := NewPod(set, 0, Revision(set))
	node, why := Place(p, nodes, nil)
	if node != "node-3" {
		t.Fatalf("Place = %q %q, want node-3 (the only one with 2Gi)", node, why)
	}
	// node-3 taken by a pod using most of its cpu: nothing fits.
	other := NewPod(set, 1, Revision(set))
	other.NodeName = "node-3"
	node, why = Place(p, nodes, []*ordov1.Pod{other})
	if node != "" || why != "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory." {
		t.Fatalf("Place = %q %q", node, why)
	}
	// Nodes that report nothing take any request.
	for _, n := range nodes {
		n.Capacity.AllocatableCpuMillis, n.Capacity.AllocatableMemoryBytes = 0, 0
	}
	if node, why = Place(p, nodes, []*ordov1.Pod{other}); node == "" {
		t.Fatalf("unreported capacity refused: %s", why)
	}
}

func TestPodRequestsWithInitAndSidecars(t *testing.T) {
	spec := &ordov1.PodSpec{
		Containers: []*ordov1.Container{{Resources: &ordov1.ResourceRequirements{CpuRequestMillis: 100, MemoryRequestBytes: 100}}},
		InitContainers: []*ordov1.Container{
			{Resources: &ordov1.ResourceRequirements{CpuRequestMillis: 500, MemoryRequestBytes: 10}},
			{RestartPolicy: "Always", Resources: &ordov1.ResourceRequirements{CpuRequestMillis: 50, MemoryRequestBytes: 50}},
		},
	}
	if got := PodRequests(spec); got != (Requests{CPUMillis: 500, MemoryBytes: 150}) {
		t.Fatalf("PodRequests = %+v", got)
	}
}
