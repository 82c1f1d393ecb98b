package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// probeKind says what a probe decides.
type probeKind int

const (
	startupProbe probeKind = iota
	readinessProbe
	livenessProbe
)

func (k probeKind) String() string {
	return [...]string{"startup", "readiness", "liveness"}[k]
}

// probeResult is the outcome a probe has settled on.
type probeResult int

const (
	probeUnknown probeResult = iota
	probeSuccess
	probeFailure
)

// Probe defaults, as in Kubernetes (times in milliseconds).
const (
	defaultPeriodMs         = 10000
	defaultTimeoutMs        = 1000
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

// probeTiming is a probe's schedule and thresholds with defaults applied.
type probeTiming struct {
	initialDelay, period, timeout time.Duration
	success, failure              int
}

func timingOf(kind probeKind, p *ordov1.Probe) probeTiming {
	t := probeTiming{
		initialDelay: time.Duration(p.GetInitialDelayMs()) * time.Millisecond,
		period:       time.Duration(p.GetPeriodMs()) * time.Millisecond,
		timeout:      time.Duration(p.GetTimeoutMs()) * time.Millisecond,
		success:      int(p.GetSuccessThreshold()),
		failure:      int(p.GetFailureThreshold()),
	}
	if t.period <= 0 {
		t.period = defaultPeriodMs * time.Millisecond
	}
	if t.timeout <= 0 {
		t.timeout = defaultTimeoutMs * time.Millisecond
	}
	if t.success <= 0 || kind != readinessProbe {
		// Liveness and startup probes succeed on one success.
		t.success = defaultSuccessThreshold
	}
	if t.failure <= 0 {
		t.failure = defaultFailureThreshold
	}
	return t
}

// probeState applies a probe's thresholds to its successive outcomes: the
// result changes after `success` consecutive successes or `failure`
// consecutive failures.
type probeState struct {
	success, failure int
	result           probeResult
	succ, fail       int
}

// newProbeState starts where Kubernetes starts: not ready, alive, not started.
func newProbeState(kind probeKind, t probeTiming) probeState {
	s := probeState{success: t.success, failure: t.failure}
	switch kind {
	case readinessProbe:
		s.result = probeFailure
	case livenessProbe:
		s.result = probeSuccess
	default:
		s.result = probeUnknown
	}
	return s
}

// observe records one outcome and reports whether the result changed.
func (s *probeState) observe(ok bool) bool {
	prev := s.result
	if ok {
		s.succ++
		s.fail = 0
		if s.succ >= s.success {
			s.result = probeSuccess
		}
	} else {
		s.fail++
		s.succ = 0
		if s.fail >= s.failure {
			s.result = probeFailure
		}
	}
	return s.result != prev
}

// prober runs one probe attempt; nil means success.
type prober interface {
	probe(ctx context.Context) error
}

type proberFunc func(ctx context.Context) error

func (f proberFunc) probe(ctx context.Context) error { return f(ctx) }

// runProbe runs p on its schedule until ctx ends, calling emit on every change of
// result. A startup probe stops once it succeeds or fails for good.
func runProbe(ctx context.Context, kind probeKind, t probeTiming, p prober, emit func(probeResult, string)) {
	st := newProbeState(kind, t)
	if t.initialDelay > 0 {
		timer := time.NewTimer(t.initialDelay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
	ticker := time.NewTicker(t.period)
	defer ticker.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, t.timeout)
		err := p.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if st.observe(err == nil) {
			msg := ""
			if err != nil {
				msg = fmt.Sprintf("%s probe failed: %v", kind, err)
			}
			emit(st.result, msg)
		}
		if kind == startupProbe && st.result != probeUnknown {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// probeTarget is what probes act on: a container and its pod's network.
type probeTarget struct {
	rt          Runtime
	containerID string
	netnsPath   string
	podIP       string
}

// newProber builds the prober of a probe spec, or nil when it names no action.
func newProber(p *ordov1.Probe, tg probeTarget) prober {
	host := func(h string) string {
		switch {
		case h != "":
			return h
		case tg.podIP != "":
			return tg.podIP
		default:
			return "127.0.0.1"
		}
	}
	switch {
	case p.GetExec() != nil:
		cmd := p.GetExec().GetCommand()
		return proberFunc(func(ctx context.Context) error { return execProbe(ctx, tg, cmd) })
	case p.GetTcpSocket() != nil:
		addr := net.JoinHostPort(host(p.GetTcpSocket().GetHost()), strconv.Itoa(int(p.GetTcpSocket().GetPort())))
		return proberFunc(func(ctx context.Context) error {
			c, err := network.DialContext(ctx, tg.netnsPath, "tcp", addr)
			if err != nil {
				return err
			}
			return c.Close()
		})
	case p.GetHttpGet() != nil:
		return newHTTPProber(p.GetHttpGet(), host(p.GetHttpGet().GetHost()), tg.netnsPath)
	case p.GetGrpc() != nil:
		addr := net.JoinHostPort(host(""), strconv.Itoa(int(p.GetGrpc().GetPort())))
		service := p.GetGrpc().GetService()
		return proberFunc(func(ctx context.Context) error { return grpcProbe(ctx, tg.netnsPath, addr, service) })
	}
	return nil
}

func execProbe(ctx context.Context, tg probeTarget, cmd []string) error {
	var out strings.Builder
	code, err := tg.rt.Exec(ctx, tg.containerID, cmd, &limitedStringWriter{b: &out, n: 1024})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("command %q timed out", strings.Join(cmd, " "))
		}
		return err
	}
	if code != 0 {
		msg := strings.TrimSpace(out.String())
		if msg != "" {
			return fmt.Errorf("command %q exited with %d: %s", strings.Join(cmd, " "), code, msg)
		}
		return fmt.Errorf("command %q exited with %d", strings.Join(cmd, " "), code)
	}
	return nil
}

type limitedStringWriter struct {
	b *strings.Builder
	n int
}

func (w *limitedStringWriter) Write(p []byte) (int, error) {
	if k := min(len(p), w.n-w.b.Len()); k > 0 {
		w.b.Write(p[:k])
	}
	return len(p), nil
}

func newHTTPProber(g *ordov1.HTTPGetAction, host, nsPath string) prober {
	scheme := strings.ToLower(g.GetScheme())
	if scheme == "" {
		scheme = "http"
	}
	path := g.GetPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(int(g.GetPort())))}
	full := u.String() + path
	headers := g.GetHttpHeaders()
	client := &http.Client{
		Transport: &http.Transport{
			DialContext:       network.Dialer(nsPath),
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // as the kubelet does
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return proberFunc(func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, full, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "ordo-probe/1.0")
		for _, h := range headers {
			if strings.EqualFold(h.GetName(), "Host") {
				req.Host = h.GetValue()
				continue
			}
			req.Header.Add(h.GetName(), h.GetValue())
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	})
}

func grpcProbe(ctx context.Context, nsPath, addr, service string) error {
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			return network.DialContext(ctx, nsPath, "tcp", a)
		}),
	)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return fmt.Errorf("health rpc: %w", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("service unhealthy (responded with %q)", resp.GetStatus())
	}
	return nil
}
