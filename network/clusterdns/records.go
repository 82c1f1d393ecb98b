// Package clusterdns answers DNS queries for the cluster domain from the
// scheduler's records (services and their endpoints), following the Kubernetes
// DNS specification for headless services, and forwards other names.
package clusterdns

import (
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// TTL of the answers: short, since pods come and go.
const TTL = 5

// Records is an index of the cluster's names, built once per ClusterDNS.
type Records struct {
	domain string // fully qualified, e.g. "cluster.local."
	names  map[string][]dns.RR
	exists map[string]bool   // every name with records and all their parents in the domain
	podNS  map[string]string // pod IP -> namespace, for the search path of a client
}

// Build indexes d for the cluster domain (e.g. "cluster.local").
//
//   - <hostname>.<service>.<ns>.svc.<domain>  A    the pod's IP (pods whose subdomain is the service)
//   - <service>.<ns>.svc.<domain>             A    every usable endpoint (headless), or the cluster IP
//   - _<port>._<proto>.<service>.<ns>.svc.<domain>  SRV  per usable endpoint, target its pod name
//   - <service>.<ns>.svc.<domain>             SRV  the same for every named port
//
// Usable endpoints are the Ready ones, and the not-Ready ones too when the
// service publishes not-ready addresses.
func Build(d *ordov1.ClusterDNS, domain string) *Records {
	r := &Records{domain: dns.Fqdn(strings.ToLower(domain)), names: map[string][]dns.RR{}, exists: map[string]bool{}, podNS: map[string]string{}}
	eps := map[string]*ordov1.Endpoints{}
	for _, ep := range d.GetEndpoints() {
		eps[identity.NamespaceOr(ep.GetMetadata().GetNamespace())+"/"+ep.GetMetadata().GetName()] = ep
		for _, a := range ep.GetAddresses() {
			r.podNS[a.GetIp()] = identity.NamespaceOr(ep.GetMetadata().GetNamespace())
		}
	}
	for _, svc := range d.GetServices() {
		ns := identity.NamespaceOr(svc.GetMetadata().GetNamespace())
		name := strings.ToLower(svc.GetMetadata().GetName())
		base := name + "." + strings.ToLower(ns) + ".svc." + r.domain
		r.mark(base)
		ep := eps[ns+"/"+svc.GetMetadata().GetName()]
		publishAll := svc.GetSpec().GetPublishNotReadyAddresses()
		type target struct {
			fqdn string
			ip   net.IP
		}
		var targets []target
		for _, a := range ep.GetAddresses() {
			if !a.GetReady() && !publishAll {
				continue
			}
			ip, err := netip.ParseAddr(a.GetIp())
			if err != nil || !ip.Is4() {
				continue
			}
			host := strings.ToLower(a.GetHostname())
			if host == "" {
				host = strings.ReplaceAll(ip.String(), ".", "-")
			}
			fqdn := host + "." + base
			r.add(&dns.A{Hdr: hdr(fqdn, dns.TypeA), A: ip.AsSlice()})
			targets = append(targets, target{fqdn, ip.AsSlice()})
		}
		headless := svc.GetSpec().GetClusterIp() == "" || strings.EqualFold(svc.GetSpec().GetClusterIp(), "None")
		if vip, err := netip.ParseAddr(svc.GetSpec().GetClusterIp()); err == nil && vip.Is4() {
			r.add(&dns.A{Hdr: hdr(base, dns.TypeA), A: vip.AsSlice()})
			headless = false
		}
		if headless {
			for _, t := range targets {
				r.add(&dns.A{Hdr: hdr(base, dns.TypeA), A: t.ip})
			}
		}
		for _, p := range svc.GetSpec().GetPorts() {
			if p.GetName() == "" {
				continue
			}
			proto := strings.ToLower(p.GetProtocol())
			if proto == "" {
				proto = "tcp"
			}
			srvName := "_" + strings.ToLower(p.GetName()) + "._" + proto + "." + base
			r.mark(srvName)
			port := uint16(p.GetPort())
			if headless {
				for _, t := range targets {
					srv := &dns.SRV{Hdr: hdr(srvName, dns.TypeSRV), Priority: 0, Weight: 100, Port: port, Target: t.fqdn}
					r.add(srv)
					r.add(&dns.SRV{Hdr: hdr(base, dns.TypeSRV), Priority: 0, Weight: 100, Port: port, Target: t.fqdn})
				}
			} else {
				r.add(&dns.SRV{Hdr: hdr(srvName, dns.TypeSRV), Priority: 0, Weight: 100, Port: port, Target: base})
				r.add(&dns.SRV{Hdr: hdr(base, dns.TypeSRV), Priority: 0, Weight: 100, Port: port, Target: base})
			}
		}
	}
	return r
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
}

func (r *Records) add(rr dns.RR) {
	name := rr.Header().Name
	r.names[name] = append(r.names[name], rr)
	r.mark(name)
}

// mark records name and its parents down to the domain as existing.
func (r *Records) mark(name string) {
	for n := name; dns.IsSubDomain(r.domain, n); {
		r.exists[n] = true
		if n == r.domain {
			return
		}
		i := strings.IndexByte(n, '.')
		n = n[i+1:]
	}
}

// InDomain reports whether name is in the cluster domain.
func (r *Records) InDomain(name string) bool {
	return dns.IsSubDomain(r.domain, dns.Fqdn(strings.ToLower(name)))
}

// ndots is the resolver option pods get: names with fewer dots are tried
// with the search list first.
const ndots = 5

// Expand applies a pod's search list on the server side, for resolvers that
// query a relative name as it is (busybox nslookup does for names with a dot):
// it returns the first of <name>.<ns>.svc.<domain>, <name>.svc.<domain>,
// <name>.<domain> that exists, for the namespace of the pod with client's IP
// (default when unknown). ok is false for names with ndots or more dots and
// for names no candidate matches.
func (r *Records) Expand(name, client string) (fqdn string, ok bool) {
	name = dns.Fqdn(strings.ToLower(name))
	if name == "." || strings.Count(name, ".")-1 >= ndots || r.InDomain(name) {
		return "", false
	}
	ns := r.podNS[client]
	if ns == "" {
		ns = "default"
	}
	for _, suffix := range []string{ns + ".svc." + r.domain, "svc." + r.domain, r.domain} {
		if c := name + suffix; r.exists[c] && len(r.names[c]) > 0 {
			return c, true
		}
	}
	return "", false
}

// Answer answers a question about a name in the cluster domain: the records of
// that type, NOERROR without records for names that exist with other types
// only, NXDOMAIN for names that do not exist.
func (r *Records) Answer(q dns.Question) (rcode int, answers []dns.RR) {
	name := dns.Fqdn(strings.ToLower(q.Name))
	if !r.exists[name] {
		return dns.RcodeNameError, nil
	}
	for _, rr := range r.names[name] {
		if q.Qtype == dns.TypeANY || rr.Header().Rrtype == q.Qtype {
			c := dns.Copy(rr)
			c.Header().Name = q.Name
			answers = append(answers, c)
		}
	}
	return dns.RcodeSuccess, answers
}

// Extra returns the A records of the SRV targets among answers (additional section).
func (r *Records) Extra(answers []dns.RR) []dns.RR {
	var out []dns.RR
	seen := map[string]bool{}
	for _, a := range answers {
		srv, ok := a.(*dns.SRV)
		if !ok || seen[srv.Target] {
			continue
		}
		seen[srv.Target] = true
		for _, rr := range r.names[srv.Target] {
			if rr.Header().Rrtype == dns.TypeA {
				out = append(out, dns.Copy(rr))
			}
		}
	}
	return out
}
