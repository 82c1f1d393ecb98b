package clusternet

import (
	"fmt"
	"net/netip"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestAllocatePodCIDR(t *testing.T) {
	cluster := netip.MustParsePrefix("10.244.0.0/16")
	cases := []struct {
		current string
		used    []string
		want    string
	}{
		{"", nil, "10.244.1.0/24"},
		{"", []string{"10.244.1.0/24", "10.244.3.0/24"}, "10.244.2.0/24"},
		{"10.244.7.0/24", []string{"10.244.1.0/24"}, "10.244.7.0/24"}, // kept
		{"10.244.1.0/24", []string{"10.244.1.0/24"}, "10.244.2.0/24"}, // taken by another node
		{"10.99.1.0/24", nil, "10.244.1.0/24"},                        // outside the cluster CIDR
		{"10.244.1.128/25", nil, "10.244.1.0/24"},                     // wrong size
	}
	for _, c := range cases {
		got, err := allocatePodCIDR(cluster, 24, c.current, c.used)
		if err != nil || got != c.want {
			t.Errorf("allocatePodCIDR(%q, %v) = %q, %v; want %q", c.current, c.used, got, err, c.want)
		}
	}
	small := netip.MustParsePrefix("10.0.0.0/23") // blocks .0 (skipped) and .1
	if got, err := allocatePodCIDR(small, 24, "", []string{"10.0.1.0/24"}); err == nil {
		t.Errorf("full cluster CIDR gave %q", got)
	}
	// Every node of a large cluster gets its own block.
	var used []string
	seen := map[string]bool{}
	for i := 0; i < 255; i++ {
		got, err := allocatePodCIDR(cluster, 24, "", used)
		if err != nil || seen[got] {
			t.Fatalf("node %d: %q, %v (duplicate: %v)", i, got, err, seen[got])
		}
		seen[got] = true
		used = append(used, got)
	}
}

func TestComputeEndpoints(t *testing.T) {
	svc := &ordov1.Service{
		Metadata: &ordov1.ObjectMeta{Name: "nginx", Namespace: "default", CreationTime: timestamppb.Now()},
		Spec: &ordov1.ServiceSpec{ClusterIp: "None", Selector: map[string]string{"app": "nginx"},
			Ports: []*ordov1.ServicePort{{Name: "web", Port: 80}}},
	}
	pod := func(name, ip string, phase ordov1.PodPhase, ready bool, labels map[string]string) *ordov1.Pod {
		return &ordov1.Pod{
			Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
			Spec:     &ordov1.PodSpec{Hostname: name, Subdomain: "nginx"},
			NodeName: "node-1",
			Status:   &ordov1.PodStatus{Phase: phase, Ready: ready, PodIp: ip},
		}
	}
	app := map[string]string{"app": "nginx"}
	deleting := pod("web-3", "10.244.1.5", ordov1.PodPhase_POD_PHASE_RUNNING, true, app)
	deleting.Metadata.DeletionTime = timestamppb.Now()
	other := pod("db-0", "10.244.1.9", ordov1.PodPhase_POD_PHASE_RUNNING, true, map[string]string{"app": "db"})
	pods := []*ordov1.Pod{
		pod("web-1", "10.244.2.2", ordov1.PodPhase_POD_PHASE_RUNNING, false, app),
		pod("web-0", "10.244.1.2", ordov1.PodPhase_POD_PHASE_RUNNING, true, app),
		pod("web-2", "", ordov1.PodPhase_POD_PHASE_PENDING, false, app),
		deleting, other,
	}
	eps := ComputeEndpoints([]*ordov1.Service{svc, {Metadata: &ordov1.ObjectMeta{Name: "noselector"}}}, pods)
	if len(eps) != 1 {
		t.Fatalf("endpoints %v, want one for nginx (a service without selector has none)", eps)
	}
	got := ""
	for _, a := range eps[0].GetAddresses() {
		got += fmt.Sprintf("%s=%s/%s/%v ", a.GetPodName(), a.GetIp(), a.GetHostname(), a.GetReady())
	}
	want := "web-0=10.244.1.2/web-0/true web-1=10.244.2.2/web-1/false web-3=10.244.1.5/web-3/false "
	if got != want {
		t.Errorf("addresses %q, want %q", got, want)
	}
	if len(eps[0].GetPorts()) != 1 || eps[0].GetMetadata().GetCreationTime() == nil {
		t.Errorf("endpoints %v lack the service's ports or age", eps[0])
	}
	// A pod whose subdomain is another service has no hostname there.
	svc2 := &ordov1.Service{Metadata: &ordov1.ObjectMeta{Name: "all", Namespace: "default"},
		Spec: &ordov1.ServiceSpec{Selector: app}}
	for _, a := range ComputeEndpoints([]*ordov1.Service{svc2}, pods)[0].GetAddresses() {
		if a.GetHostname() != "" {
			t.Errorf("%s has hostname %q behind a service that is not its subdomain", a.GetPodName(), a.GetHostname())
		}
	}
}
