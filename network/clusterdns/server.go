package clusterdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Server answers for the cluster domain over UDP and TCP and forwards other
// names to upstream servers (REFUSED when there are none).
type Server struct {
	Domain    string   // e.g. cluster.local
	Upstreams []string // host:port; empty: other names are refused
	Log       *slog.Logger

	records atomic.Pointer[Records]
	version atomic.Uint64

	mu      sync.Mutex
	servers []*dns.Server
}

// NewServer returns a server for domain with no records yet.
func NewServer(domain string, upstreams []string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{Domain: domain, Upstreams: upstreams, Log: log}
	s.records.Store(Build(nil, domain))
	return s
}

// SetRecords replaces the records served (the scheduler sends them in order).
func (s *Server) SetRecords(d *ordov1.ClusterDNS) {
	s.records.Store(Build(d, s.Domain))
	s.version.Store(d.GetVersion())
}

// Version is the version of the records served.
func (s *Server) Version() uint64 { return s.version.Load() }

// Listening reports whether the server has been started.
func (s *Server) Listening() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.servers) > 0
}

// Start listens on addr (host:port) over UDP and TCP in the caller's network
// namespace. Starting a started server is a no-op.
func (s *Server) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.servers) > 0 {
		return nil
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("dns listen udp %s: %w", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("dns listen tcp %s: %w", addr, err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: l, Handler: s}
	for _, srv := range []*dns.Server{udp, tcp} {
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				s.Log.Warn("dns server stopped", "err", err)
			}
		}()
	}
	s.servers = []*dns.Server{udp, tcp}
	s.Log.Info("dns server listening", "address", addr, "domain", s.Domain)
	return nil
}

// Stop closes the listeners.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		_ = srv.Shutdown()
	}
	s.servers = nil
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	client := ""
	if h, _, err := net.SplitHostPort(w.RemoteAddr().String()); err == nil {
		client = h
	}
	resp := s.Resolve(context.Background(), req, w.RemoteAddr().Network(), client)
	_ = w.WriteMsg(resp)
}

// Resolve answers req: from the records for cluster names, from the upstream
// servers for other names.
func (s *Server) Resolve(ctx context.Context, req *dns.Msg, network, client string) *dns.Msg {
	resp := new(dns.Msg)
	if len(req.Question) != 1 {
		resp.SetRcode(req, dns.RcodeFormatError)
		return resp
	}
	q := req.Question[0]
	r := s.records.Load()
	if r.InDomain(q.Name) {
		resp.SetReply(req)
		resp.Authoritative = true
		resp.RecursionAvailable = true
		rcode, ans := r.Answer(q)
		resp.Rcode = rcode
		resp.Answer = ans
		resp.Extra = r.Extra(ans)
		if network == "udp" {
			resp.Truncate(dnsSize(req))
		}
		return resp
	}
	if fqdn, ok := r.Expand(q.Name, client); ok {
		// The pod's search list, applied here: a CNAME to the cluster name.
		resp.SetReply(req)
		resp.Authoritative = true
		resp.RecursionAvailable = true
		resp.Answer = []dns.RR{&dns.CNAME{Hdr: hdr(q.Name, dns.TypeCNAME), Target: fqdn}}
		if q.Qtype != dns.TypeCNAME {
			_, ans := r.Answer(dns.Question{Name: fqdn, Qtype: q.Qtype, Qclass: q.Qclass})
			resp.Answer = append(resp.Answer, ans...)
			resp.Extra = r.Extra(ans)
		}
		if network == "udp" {
			resp.Truncate(dnsSize(req))
		}
		return resp
	}
	if len(s.Upstreams) == 0 || !req.RecursionDesired {
		resp.SetRcode(req, dns.RcodeRefused)
		return resp
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	var errs []error
	for _, up := range s.Upstreams {
		out, _, err := c.ExchangeContext(ctx, req, up)
		if err == nil {
			return out
		}
		errs = append(errs, err)
	}
	s.Log.Debug("dns forward failed", "name", q.Name, "err", errors.Join(errs...))
	resp.SetRcode(req, dns.RcodeServerFailure)
	return resp
}

func dnsSize(req *dns.Msg) int {
	if o := req.IsEdns0(); o != nil {
		return int(o.UDPSize())
	}
	return dns.MinMsgSize
}

// UpstreamsFrom reads the nameservers of a resolv.conf, leaving out skip (the
// server's own address).
func UpstreamsFrom(path string, skip string) []string {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, ns := range cfg.Servers {
		if ns == skip {
			continue
		}
		out = append(out, net.JoinHostPort(ns, cfg.Port))
	}
	return out
}
