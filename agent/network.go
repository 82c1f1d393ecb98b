package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// NodeNetwork is the node's side of the pod network: the scheduler's network
// configuration (pod CIDR, routes to other nodes' pods) and DNS records.
type NodeNetwork interface {
	Configure(ctx context.Context, cfg *ordov1.NetworkConfig) error
	SetRecords(d *ordov1.ClusterDNS)
	// DNS is the address of the node's DNS server for pods ("" until the
	// network is configured) and the cluster domain.
	DNS() (server, domain string)
}

// SetNodeNetwork makes the agent apply the scheduler's network configuration
// and DNS records to nn, and give pods a resolv.conf pointing at its server.
func (a *Agent) SetNodeNetwork(nn NodeNetwork) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nodeNet = nn
	a.env.dns = nn.DNS
}

func (a *Agent) configureNetwork(ctx context.Context, cfg *ordov1.NetworkConfig) {
	a.mu.Lock()
	nn := a.nodeNet
	a.mu.Unlock()
	if nn == nil || cfg == nil {
		return
	}
	if err := nn.Configure(ctx, cfg); err != nil {
		a.log.Error("configure pod network", "err", err, "pod_cidr", cfg.GetPodCidr())
		return
	}
	a.log.Debug("pod network configured", "pod_cidr", cfg.GetPodCidr(), "routes", len(cfg.GetRoutes()))
}

func (a *Agent) setRecords(d *ordov1.ClusterDNS) {
	a.mu.Lock()
	nn := a.nodeNet
	a.mu.Unlock()
	if nn != nil {
		nn.SetRecords(d)
	}
}

// resolvConf is a pod's /etc/resolv.conf: the node's DNS server and the
// Kubernetes search list for the pod's namespace.
func resolvConf(server, domain, namespace string) string {
	if namespace == "" {
		namespace = identity.DefaultNamespace
	}
	return fmt.Sprintf("nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n",
		server, namespace, domain, domain, domain)
}

// podFQDN is <hostname>.<subdomain>.<namespace>.svc.<domain>, or "" without a subdomain.
func podFQDN(hostname, subdomain, namespace, domain string) string {
	if subdomain == "" {
		return ""
	}
	if namespace == "" {
		namespace = identity.DefaultNamespace
	}
	if domain == "" {
		domain = "cluster.local"
	}
	return strings.Join([]string{hostname, subdomain, namespace, "svc", domain}, ".")
}
