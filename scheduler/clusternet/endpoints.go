package clusternet

import (
	"sort"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/labels"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// computeEndpoints lists, for every service with a selector, the pods it
// selects that have an IP. Pods being deleted or not Ready are listed with
// ready=false; the hostname is set only for pods whose subdomain is the
// service (as Kubernetes does), which is what gives them a DNS name.
func ComputeEndpoints(services []*ordov1.Service, pods []*ordov1.Pod) []*ordov1.Endpoints {
	var out []*ordov1.Endpoints
	for _, svc := range services {
		sel := svc.GetSpec().GetSelector()
		if len(sel) == 0 {
			continue
		}
		ns := identity.NamespaceOr(svc.GetMetadata().GetNamespace())
		ep := &ordov1.Endpoints{
			Metadata: &ordov1.ObjectMeta{
				Name:         svc.GetMetadata().GetName(),
				Namespace:    ns,
				Labels:       svc.GetMetadata().GetLabels(),
				CreationTime: svc.GetMetadata().GetCreationTime(),
			},
			Ports: svc.GetSpec().GetPorts(),
		}
		for _, p := range pods {
			if identity.NamespaceOr(p.GetMetadata().GetNamespace()) != ns || !labels.MapMatches(sel, p.GetMetadata().GetLabels()) {
				continue
			}
			st := p.GetStatus()
			if st.GetPodIp() == "" {
				continue
			}
			switch st.GetPhase() {
			case ordov1.PodPhase_POD_PHASE_RUNNING, ordov1.PodPhase_POD_PHASE_UNKNOWN:
			default:
				continue
			}
			a := &ordov1.EndpointAddress{
				Ip:       st.GetPodIp(),
				PodName:  p.GetMetadata().GetName(),
				NodeName: p.GetNodeName(),
				Ready: st.GetReady() && st.GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING &&
					p.GetMetadata().GetDeletionTime() == nil,
			}
			if p.GetSpec().GetSubdomain() == svc.GetMetadata().GetName() {
				a.Hostname = p.GetSpec().GetHostname()
				if a.Hostname == "" {
					a.Hostname = p.GetMetadata().GetName()
				}
			}
			ep.Addresses = append(ep.Addresses, a)
		}
		sort.Slice(ep.Addresses, func(i, j int) bool { return ep.Addresses[i].PodName < ep.Addresses[j].PodName })
		out = append(out, ep)
	}
	sort.Slice(out, func(i, j int) bool {
		return state.Key(out[i].Metadata.Namespace, out[i].Metadata.Name) < state.Key(out[j].Metadata.Namespace, out[j].Metadata.Name)
	})
	return out
}
