package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

// inPod runs cmd in container nginx of pod, on the pod's node.
func inPod(t *testing.T, pod string, cmd ...string) (string, error) {
	t.Helper()
	p := framework.ListPods(t, clus, "web")[pod]
	if p == nil {
		return "", fmt.Errorf("pod %s not found", pod)
	}
	return framework.ExecInPod(clus, p.GetNodeName(), pod, "nginx", cmd...)
}

// eventually polls fn until it returns "" (no complaint) or the deadline passes.
func eventually(t *testing.T, what string, timeout time.Duration, fn func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := fn()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func endpoints(t *testing.T, name string) *ordov1.Endpoints {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := clus.Control().List(ctx, &ordov1.ListRequest{Kind: "Endpoints", Namespace: "default"})
	if err != nil {
		t.Fatalf("list endpoints: %v", err)
	}
	for _, e := range resp.GetEndpoints() {
		if e.GetMetadata().GetName() == name {
			return e
		}
	}
	return nil
}

// podLinks are the host-side veths of pods on node (their alias names the pod).
func podLinks(t *testing.T, node string) []string {
	t.Helper()
	out := framework.MustExec(t, clus, node, "ip", "-o", "link")
	var links []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "alias ordo:"); i >= 0 {
			links = append(links, strings.TrimSpace(l[i+len("alias ordo:"):]))
		}
	}
	return links
}

// The StatefulSet example's stable network identity: from web-0, web-1.nginx
// resolves to web-1's IP on another node and serves web-1; the name follows a
// recreated web-1; the headless name lists only Ready pods; SRV records name
// every pod; everything a pod had on its node goes with it.
func TestStableNetworkIdentity(t *testing.T) {
	framework.Need(t, clus)
	example := filepath.Join(framework.RepoRoot(), "examples", "web.yaml")
	if out, err := ordoCLI(t, "", "apply", "-f", example); err != nil {
		t.Fatalf("ordo apply: %v\n%s", err, out)
	}
	deleted := false
	defer func() {
		if !deleted {
			_, _ = ordoCLI(t, "", "delete", "-f", example)
			framework.WaitFor(t, clus, "web gone", 120*time.Second, func() bool { return len(framework.ListPods(t, clus, "web")) == 0 })
		}
	}()
	pods := framework.WaitSetReady(t, clus, "web", "web-0", "web-1", "web-2")
	for name, p := range pods {
		if p.GetStatus().GetPodIp() == "" || !strings.HasPrefix(p.GetStatus().GetPodIp(), "10.244.") {
			t.Fatalf("%s has pod IP %q, want one from 10.244.0.0/16", name, p.GetStatus().GetPodIp())
		}
	}
	if pods["web-0"].GetNodeName() == pods["web-1"].GetNodeName() {
		t.Fatalf("web-0 and web-1 both on %s; the test needs them on different nodes", pods["web-0"].GetNodeName())
	}
	ip1 := pods["web-1"].GetStatus().GetPodIp()

	// The pod's own files.
	out, err := inPod(t, "web-0", "cat", "/etc/resolv.conf", "/etc/hosts")
	if err != nil {
		t.Fatalf("read web-0's resolv.conf and hosts: %v\n%s", err, out)
	}
	for _, want := range []string{"search default.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5",
		pods["web-0"].GetStatus().GetPodIp() + "\tweb-0.nginx.default.svc.cluster.local\tweb-0"} {
		if !strings.Contains(out, want) {
			t.Errorf("web-0's resolv.conf and hosts lack %q:\n%s", want, out)
		}
	}

	// Name and HTTP across nodes.
	eventually(t, "nslookup web-1.nginx from web-0", 10*time.Second, func() string {
		out, _ := inPod(t, "web-0", "nslookup", "web-1.nginx")
		if !strings.Contains(out, "Address: "+ip1) {
			return fmt.Sprintf("want %s in:\n%s", ip1, out)
		}
		return ""
	})
	eventually(t, "wget http://web-1.nginx/ from web-0", 10*time.Second, func() string {
		out, err := inPod(t, "web-0", "wget", "-qO-", "http://web-1.nginx/")
		if err != nil || strings.TrimSpace(out) != "web-1" {
			return fmt.Sprintf("got %q (%v), want web-1", out, err)
		}
		return ""
	})

	// SRV records of the named port, one per pod.
	out, err = inPod(t, "web-0", "nslookup", "-type=SRV", "_web._tcp.nginx.default.svc.cluster.local")
	for _, p := range []string{"web-0", "web-1", "web-2"} {
		if want := "80 " + p + ".nginx.default.svc.cluster.local"; !strings.Contains(out, want) {
			t.Errorf("SRV _web._tcp.nginx lacks %q (%v):\n%s", want, err, out)
		}
	}
	// Unknown cluster names do not exist.
	out, _ = inPod(t, "web-0", "nslookup", "web-9.nginx.default.svc.cluster.local")
	if !strings.Contains(out, "NXDOMAIN") {
		t.Errorf("web-9.nginx: want NXDOMAIN:\n%s", out)
	}

	// Endpoints, as the CLI shows them.
	out, err = ordoCLI(t, "", "get", "endpoints")
	for _, p := range pods {
		if !strings.Contains(out, p.GetStatus().GetPodIp()+":80") {
			t.Errorf("get endpoints lacks %s:80 (%v):\n%s", p.GetStatus().GetPodIp(), err, out)
		}
	}

	// Only Ready pods behind the headless name: web-2 fails its readiness probe
	// once its page is gone, and comes back with it.
	ip2 := pods["web-2"].GetStatus().GetPodIp()
	if out, err := inPod(t, "web-2", "rm", "/www/index.html"); err != nil {
		t.Fatalf("remove web-2's page: %v\n%s", err, out)
	}
	eventually(t, "web-2 left out of nginx while not Ready", 20*time.Second, func() string {
		out, _ := inPod(t, "web-0", "nslookup", "nginx.default.svc.cluster.local")
		if strings.Contains(out, ip2) || !strings.Contains(out, ip1) {
			return fmt.Sprintf("want %s and not %s:\n%s", ip1, ip2, out)
		}
		return ""
	})
	if e := endpoints(t, "nginx"); e != nil {
		for _, a := range e.GetAddresses() {
			if a.GetPodName() == "web-2" && a.GetReady() {
				t.Errorf("endpoints list web-2 as ready while it fails its probe")
			}
		}
	}
	if out, err := inPod(t, "web-2", "sh", "-c", "hostname > /www/index.html"); err != nil {
		t.Fatalf("restore web-2's page: %v\n%s", err, out)
	}
	eventually(t, "web-2 back in nginx once Ready", 20*time.Second, func() string {
		out, _ := inPod(t, "web-0", "nslookup", "nginx.default.svc.cluster.local")
		if !strings.Contains(out, ip2) {
			return fmt.Sprintf("want %s:\n%s", ip2, out)
		}
		return ""
	})

	// web-1 recreated: the name follows the new incarnation.
	oldEpoch := pods["web-1"].GetEpoch()
	if err := framework.Delete(clus, "Pod", "web-1"); err != nil {
		t.Fatalf("delete pod web-1: %v", err)
	}
	var newIP string
	framework.WaitFor(t, clus, "web-1 recreated and Ready", 90*time.Second, func() bool {
		p := framework.ListPods(t, clus, "web")["web-1"]
		if p.GetEpoch() > oldEpoch && framework.Ready(p) {
			newIP = p.GetStatus().GetPodIp()
			return true
		}
		return false
	})
	eventually(t, "web-1.nginx follows the new web-1", 10*time.Second, func() string {
		out, _ := inPod(t, "web-0", "nslookup", "web-1.nginx")
		if !strings.Contains(out, "Address: "+newIP) {
			return fmt.Sprintf("want %s:\n%s", newIP, out)
		}
		out, err := inPod(t, "web-0", "wget", "-qO-", "http://web-1.nginx/")
		if err != nil || strings.TrimSpace(out) != "web-1" {
			return fmt.Sprintf("wget got %q (%v)", out, err)
		}
		return ""
	})

	// A restarted agent keeps its pods' addresses and network.
	pods = framework.ListPods(t, clus, "web")
	node0 := pods["web-0"].GetNodeName()
	lab(t, "agent", "stop", node0, "--signal", "KILL")
	lab(t, "agent", "start", node0)
	framework.WaitFor(t, clus, node0+" Ready again", 30*time.Second, func() bool { return nodeReady(t, node0) })
	after := framework.WaitSetReady(t, clus, "web", "web-0", "web-1", "web-2")
	for name, p := range after {
		if p.GetStatus().GetPodIp() != pods[name].GetStatus().GetPodIp() || p.GetEpoch() != pods[name].GetEpoch() {
			t.Errorf("%s: IP %s epoch %d after the agent restart, was %s epoch %d", name,
				p.GetStatus().GetPodIp(), p.GetEpoch(), pods[name].GetStatus().GetPodIp(), pods[name].GetEpoch())
		}
	}
	eventually(t, "web-0 reaches web-1 after its agent restarted", 10*time.Second, func() string {
		out, err := inPod(t, "web-0", "wget", "-qO-", "http://web-1.nginx/")
		if err != nil || strings.TrimSpace(out) != "web-1" {
			return fmt.Sprintf("wget got %q (%v)", out, err)
		}
		return ""
	})

	// Every pod has exactly one veth on its node.
	pods = framework.ListPods(t, clus, "web")
	for _, node := range clus.Nodes() {
		var want []string
		for name, p := range pods {
			if p.GetNodeName() == node {
				want = append(want, name)
			}
		}
		eventually(t, "veths on "+node, 10*time.Second, func() string {
			if got := podLinks(t, node); fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
				return fmt.Sprintf("pod veths %v, want %v", got, want)
			}
			return ""
		})
	}

	// Deleting the set removes every pod's veth, namespace and address.
	if out, err := ordoCLI(t, "", "delete", "-f", example); err != nil {
		t.Fatalf("ordo delete -f: %v\n%s", err, out)
	}
	deleted = true
	framework.WaitFor(t, clus, "web gone", 120*time.Second, func() bool { return len(framework.ListPods(t, clus, "web")) == 0 })
	for _, node := range clus.Nodes() {
		eventually(t, "pod network of web gone from "+node, 10*time.Second, func() string {
			var left []string
			for _, l := range podLinks(t, node) {
				if strings.HasPrefix(l, "web-") {
					left = append(left, "veth of "+l)
				}
			}
			for _, name := range []string{"web-0", "web-1", "web-2"} {
				if _, err := os.Stat(filepath.Join(clus.Dir, node, "agent", "netns", name)); err == nil {
					left = append(left, "netns "+name)
				}
			}
			b, _ := os.ReadFile(filepath.Join(clus.Dir, node, "agent", "network", "ipam.json"))
			if strings.Contains(string(b), `"web-`) {
				left = append(left, "addresses "+string(b))
			}
			if len(left) > 0 {
				return fmt.Sprintf("left behind: %v", left)
			}
			return ""
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

const hostNetManifest = `apiVersion: v1
kind: Service
metadata:
  name: hostnet
spec:
  clusterIP: None
  selector:
    app: hostnet
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: hostnet
spec:
  serviceName: hostnet
  replicas: 1
  selector:
    matchLabels:
      app: hostnet
  template:
    metadata:
      labels:
        app: hostnet
    spec:
      hostNetwork: true
      setHostnameAsFQDN: true
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`

// hostNetwork pods use their node's address and namespace (no veth), and
// setHostnameAsFQDN makes the FQDN their host name; their name resolves too.
func TestHostNetworkAndFQDNHostname(t *testing.T) {
	framework.Need(t, clus)
	framework.Apply(t, clus, hostNetManifest)
	defer func() {
		framework.DeleteSet(t, clus, "hostnet")
		_ = framework.Delete(clus, "Service", "hostnet")
	}()
	p := framework.WaitSetReady(t, clus, "hostnet", "hostnet-0")["hostnet-0"]
	node := p.GetNodeName()
	nodeIP := fmt.Sprintf("10.77.0.%d", 10+int(node[len(node)-1]-'0'))
	if p.GetStatus().GetPodIp() != nodeIP {
		t.Errorf("hostNetwork pod IP %q, want its node's %s", p.GetStatus().GetPodIp(), nodeIP)
	}
	fqdn := "hostnet-0.hostnet.default.svc.cluster.local"
	out, err := framework.ExecInPod(clus, node, "hostnet-0", "c", "sh", "-c", "hostname; ip -o addr; nslookup hostnet-0.hostnet")
	if err != nil {
		t.Fatalf("exec: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, fqdn+"\n") {
		t.Errorf("host name is not the FQDN:\n%s", out)
	}
	if !strings.Contains(out, "inet "+nodeIP+"/") {
		t.Errorf("the pod does not see the node's address %s:\n%s", nodeIP, out)
	}
	if !strings.Contains(out, "Address: "+nodeIP) {
		t.Errorf("hostnet-0.hostnet does not resolve to %s:\n%s", nodeIP, out)
	}
	for _, l := range podLinks(t, node) {
		if strings.HasPrefix(l, "hostnet-") {
			t.Errorf("hostNetwork pod got a veth: %s", l)
		}
	}
}
