package clusterdns

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func webDNS(publishNotReady bool) *ordov1.ClusterDNS {
	return &ordov1.ClusterDNS{
		Version: 7,
		Services: []*ordov1.Service{{
			Metadata: &ordov1.ObjectMeta{Name: "nginx", Namespace: "default"},
			Spec: &ordov1.ServiceSpec{ClusterIp: "None", Selector: map[string]string{"app": "nginx"},
				PublishNotReadyAddresses: publishNotReady,
				Ports:                    []*ordov1.ServicePort{{Name: "web", Port: 80, Protocol: "TCP"}}},
		}},
		Endpoints: []*ordov1.Endpoints{{
			Metadata: &ordov1.ObjectMeta{Name: "nginx", Namespace: "default"},
			Addresses: []*ordov1.EndpointAddress{
				{Ip: "10.244.1.2", Hostname: "web-0", PodName: "web-0", Ready: true},
				{Ip: "10.244.2.2", Hostname: "web-1", PodName: "web-1", Ready: true},
				{Ip: "10.244.3.2", Hostname: "web-2", PodName: "web-2", Ready: false},
			},
		}},
	}
}

// values renders answers as sorted "TYPE value" strings.
func values(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, "A "+r.A.String())
		case *dns.SRV:
			out = append(out, "SRV "+r.Target+" "+strconv.Itoa(int(r.Port)))
		case *dns.CNAME:
			out = append(out, "CNAME "+r.Target)
		}
	}
	sort.Strings(out)
	return out
}

func TestAnswers(t *testing.T) {
	r := Build(webDNS(false), "cluster.local")
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		want  string
	}{
		{"web-1.nginx.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "A 10.244.2.2"},
		{"WEB-0.nginx.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "A 10.244.1.2"},
		// Not Ready: no record, the name does not exist.
		{"web-2.nginx.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, ""},
		{"nginx.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "A 10.244.1.2,A 10.244.2.2"},
		{"_web._tcp.nginx.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			"SRV web-0.nginx.default.svc.cluster.local. 80,SRV web-1.nginx.default.svc.cluster.local. 80"},
		{"nginx.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			"SRV web-0.nginx.default.svc.cluster.local. 80,SRV web-1.nginx.default.svc.cluster.local. 80"},
		// Existing name, other type: no data, not NXDOMAIN.
		{"web-1.nginx.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, ""},
		{"default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, ""},
		{"web-9.nginx.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, ""},
		{"nginx.other.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, ""},
		{"_web._udp.nginx.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeNameError, ""},
	}
	for _, c := range cases {
		rcode, ans := r.Answer(dns.Question{Name: c.name, Qtype: c.qtype, Qclass: dns.ClassINET})
		if got := strings.Join(values(ans), ","); rcode != c.rcode || got != c.want {
			t.Errorf("%s %s: %s %q, want %s %q", c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[rcode], got, dns.RcodeToString[c.rcode], c.want)
		}
		for _, rr := range ans {
			if rr.Header().Name != c.name {
				t.Errorf("%s: answer named %s", c.name, rr.Header().Name)
			}
		}
	}
	if !r.InDomain("x.cluster.local.") || r.InDomain("example.com.") || r.InDomain("cluster.localx.") {
		t.Error("InDomain")
	}
}

func TestPublishNotReadyAddresses(t *testing.T) {
	r := Build(webDNS(true), "cluster.local")
	_, ans := r.Answer(dns.Question{Name: "nginx.default.svc.cluster.local.", Qtype: dns.TypeA})
	if got := strings.Join(values(ans), ","); got != "A 10.244.1.2,A 10.244.2.2,A 10.244.3.2" {
		t.Errorf("headless name with publishNotReadyAddresses: %s", got)
	}
	if rcode, ans := r.Answer(dns.Question{Name: "web-2.nginx.default.svc.cluster.local.", Qtype: dns.TypeA}); rcode != dns.RcodeSuccess || len(ans) != 1 {
		t.Errorf("web-2 with publishNotReadyAddresses: %s %v", dns.RcodeToString[rcode], ans)
	}
}

func TestResolveSearchAndForwarding(t *testing.T) {
	s := NewServer("cluster.local", nil, nil)
	s.SetRecords(webDNS(false))
	if s.Version() != 7 {
		t.Errorf("version %d", s.Version())
	}
	ask := func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		return s.Resolve(context.Background(), m, "udp", "10.244.1.2")
	}
	// A relative name as busybox nslookup sends it: the pod's search list applies.
	resp := ask("web-1.nginx.", dns.TypeA)
	if got := strings.Join(values(resp.Answer), ","); resp.Rcode != dns.RcodeSuccess || got != "A 10.244.2.2,CNAME web-1.nginx.default.svc.cluster.local." {
		t.Errorf("web-1.nginx: %s %s", dns.RcodeToString[resp.Rcode], got)
	}
	resp = ask("_web._tcp.nginx.", dns.TypeSRV)
	if len(resp.Answer) != 3 || len(resp.Extra) != 2 {
		t.Errorf("_web._tcp.nginx SRV: %v (extra %v)", resp.Answer, resp.Extra)
	}
	// Not a cluster name, no upstream: refused.
	if resp := ask("example.com.", dns.TypeA); resp.Rcode != dns.RcodeRefused {
		t.Errorf("example.com without upstream: %s", dns.RcodeToString[resp.Rcode])
	}
	if resp := ask("web-9.nginx.default.svc.cluster.local.", dns.TypeA); resp.Rcode != dns.RcodeNameError || !resp.Authoritative {
		t.Errorf("unknown cluster name: %s", dns.RcodeToString[resp.Rcode])
	}
}
