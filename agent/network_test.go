package agent

import "testing"

func TestResolvConfAndFQDN(t *testing.T) {
	got := resolvConf("10.244.1.1", "cluster.local", "")
	want := "nameserver 10.244.1.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	if got != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, want)
	}
	if got := resolvConf("10.244.1.1", "cluster.local", "julin"); got[:len("nameserver 10.244.1.1\nsearch julin.svc")] != "nameserver 10.244.1.1\nsearch julin.svc" {
		t.Errorf("resolv.conf in namespace julin:\n%s", got)
	}
	if f := podFQDN("web-0", "nginx", "", "cluster.local"); f != "web-0.nginx.default.svc.cluster.local" {
		t.Errorf("FQDN %q", f)
	}
	if f := podFQDN("web-0", "", "default", "cluster.local"); f != "" {
		t.Errorf("FQDN without a subdomain: %q", f)
	}
}
