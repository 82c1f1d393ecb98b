package agent

import (
	"testing"

	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithHostNetworkOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithHostNetwork(false))
	if s.Linux != nil {
		t.Errorf("WithHostNetwork(false) changed the spec: %+v", s.Linux)
	}
	s = oci.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace}, {Type: specs.UTSNamespace}}}}
	apply(t, &s, WithHostNetwork(true))
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			t.Errorf("hostNetwork container still gets a network namespace of its own")
		}
	}
	if len(s.Linux.Namespaces) != 1 {
		t.Errorf("namespaces %v, want the UTS one only", s.Linux.Namespaces)
	}
	var empty oci.Spec
	apply(t, &empty, WithHostNetwork(true)) // no namespaces at all: nothing to remove
}

func TestDNSUpstreams(t *testing.T) {
	n := &nodeNet{upstreams: []string{"10.0.0.53", "10.0.0.54:5353"}}
	if got := n.dnsUpstreams("10.244.1.1"); len(got) != 2 || got[0] != "10.0.0.53:53" || got[1] != "10.0.0.54:5353" {
		t.Errorf("upstreams %v", got)
	}
	n = &nodeNet{upstreams: []string{"none"}}
	if got := n.dnsUpstreams("10.244.1.1"); len(got) != 0 {
		t.Errorf("none: %v", got)
	}
}
