package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// hostPort forwarding is a proxy in the agent: it listens on the node's
// addresses (the agent's network namespace) and connects to the pod's
// address from inside the pod's network namespace, so it needs neither a
// packet filter (none is assumed on the node) nor a route to the pod. The
// pod sees connections coming from its own address, not from the client.

const (
	hostPortDialTimeout = 5 * time.Second
	udpSessionIdle      = 2 * time.Minute
)

// hostPortMapping is one container port published on the node.
type hostPortMapping struct {
	protocol string // tcp or udp
	hostIP   string // "" listens on every address
	hostPort int32
	podPort  int32
}

func (m hostPortMapping) String() string {
	ip := m.hostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("hostPort %s/%s on %s", strconv.Itoa(int(m.hostPort)), strings.ToUpper(m.protocol), ip)
}

// hostPortMappings are the host ports the pod's containers (and sidecars) ask for.
func hostPortMappings(spec *ordov1.PodSpec) []hostPortMapping {
	var out []hostPortMapping
	for _, c := range append(append([]*ordov1.Container(nil), spec.GetInitContainers()...), spec.GetContainers()...) {
		for _, p := range c.GetPorts() {
			if p.GetHostPort() <= 0 {
				continue
			}
			proto := strings.ToLower(p.GetProtocol())
			if proto == "" {
				proto = "tcp"
			}
			out = append(out, hostPortMapping{protocol: proto, hostIP: p.GetHostIp(), hostPort: p.GetHostPort(), podPort: p.GetContainerPort()})
		}
	}
	return out
}

// hostPorts forwards a pod's host ports until closed.
type hostPorts struct {
	mu      sync.Mutex
	closers map[io.Closer]struct{} // listeners and open connections
	closed  bool
	wg      sync.WaitGroup
	nsPath  string // the pod's network namespace
}

// openHostPorts listens on every mapping and forwards to podIP (127.0.0.1
// when the pod has no address) in the network namespace at nsPath. When one
// cannot be listened on, none is kept and the error names it.
func openHostPorts(mappings []hostPortMapping, nsPath, podIP string, log *slog.Logger) (*hostPorts, error) {
	h := &hostPorts{closers: map[io.Closer]struct{}{}, nsPath: nsPath}
	if podIP == "" {
		podIP = "127.0.0.1"
	}
	for _, m := range mappings {
		addr := net.JoinHostPort(m.hostIP, strconv.Itoa(int(m.hostPort)))
		target := net.JoinHostPort(podIP, strconv.Itoa(int(m.podPort)))
		switch m.protocol {
		case "tcp":
			l, err := net.Listen("tcp", addr)
			if err != nil {
				h.Close()
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			h.track(l)
			h.wg.Add(1)
			go func() { defer h.wg.Done(); h.serveTCP(l, target, log) }()
		case "udp":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				h.Close()
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			h.track(pc)
			h.wg.Add(1)
			go func() { defer h.wg.Done(); h.serveUDP(pc, target, log) }()
		default:
			h.Close()
			return nil, fmt.Errorf("%s: protocol %q is not supported (TCP, UDP)", m, m.protocol)
		}
		log.Debug("forwarding host port", "listen", addr, "to", target, "protocol", m.protocol)
	}
	return h, nil
}

// track records c to close with h; false (c closed) when h is closed.
func (h *hostPorts) track(c io.Closer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.Close()
		return false
	}
	h.closers[c] = struct{}{}
	return true
}

func (h *hostPorts) untrack(c io.Closer) {
	h.mu.Lock()
	delete(h.closers, c)
	h.mu.Unlock()
	c.Close()
}

// Close stops listening and ends the connections being forwarded.
func (h *hostPorts) Close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	cs := h.closers
	h.closers, h.closed = nil, true
	h.mu.Unlock()
	for c := range cs {
		c.Close()
	}
	h.wg.Wait()
}

func (h *hostPorts) serveTCP(l net.Listener, target string, log *slog.Logger) {
	for {
		in, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Warn("host port accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !h.track(in) {
			continue
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer h.untrack(in)
			ctx, cancel := context.WithTimeout(context.Background(), hostPortDialTimeout)
			out, err := network.DialContext(ctx, h.nsPath, "tcp", target)
			cancel()
			if err != nil {
				log.Debug("host port: pod not reachable", "target", target, "err", err)
				return
			}
			if !h.track(out) {
				return
			}
			defer h.untrack(out)
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done
			<-done
		}()
	}
}

// serveUDP relays datagrams: one socket to the pod per client address, so
// that replies go back to their client; a session ends after udpSessionIdle.
func (h *hostPorts) serveUDP(pc net.PacketConn, target string, log *slog.Logger) {
	var (
		mu       sync.Mutex
		sessions = map[string]net.Conn{}
	)
	buf := make([]byte, 64<<10)
	for {
		n, client, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				mu.Lock()
				for _, c := range sessions {
					c.Close()
				}
				mu.Unlock()
				return
			}
			continue
		}
		key := client.String()
		mu.Lock()
		out := sessions[key]
		mu.Unlock()
		if out == nil {
			out, err = network.DialContext(context.Background(), h.nsPath, "udp", target)
			if err != nil {
				log.Debug("host port: pod not reachable", "target", target, "err", err)
				continue
			}
			mu.Lock()
			sessions[key] = out
			mu.Unlock()
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				defer func() {
					mu.Lock()
					delete(sessions, key)
					mu.Unlock()
					out.Close()
				}()
				rbuf := make([]byte, 64<<10)
				for {
					out.SetReadDeadline(time.Now().Add(udpSessionIdle))
					n, err := out.Read(rbuf)
					if err != nil {
						return
					}
					if _, err := pc.WriteTo(rbuf[:n], client); err != nil && errors.Is(err, net.ErrClosed) {
						return
					}
				}
			}()
		}
		out.SetReadDeadline(time.Now().Add(udpSessionIdle))
		out.Write(buf[:n])
	}
}
