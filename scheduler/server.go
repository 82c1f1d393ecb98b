// Package scheduler wires the ordo scheduler daemon together; its parts form
// one loop, each in its own package:
//
//	manifest → control (Control.Apply) → state (store, transitions)
//	  → loop (controller.Reconcile: placement and volumes → one transaction)
//	  → state → nodes (Node stream: DesiredPods to agents; clusternet: routes, DNS)
//	  → agents' status reports (nodes) → state → loop
//
// The services only talk through the state's commits. This package opens
// the store and the listeners, builds the services and serves them; it
// holds no logic of its own.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/clusternet"
	"github.com/ordoproject/ordo/scheduler/control"
	"github.com/ordoproject/ordo/scheduler/loop"
	"github.com/ordoproject/ordo/scheduler/nodes"
	"github.com/ordoproject/ordo/scheduler/state"
)

// Scheduler is a running scheduler: store, controller loop and gRPC services.
type Scheduler struct {
	cfg       Config
	log       *slog.Logger
	store     *state.Store
	loop      *loop.Loop
	nodes     *nodes.Service
	server    *grpc.Server
	listeners []net.Listener
}

// New opens the store and the listeners. Serve runs it.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	store, err := state.Open(filepath.Join(cfg.DataDir, "ordo.db"), log)
	if err != nil {
		return nil, err
	}
	netw, err := clusternet.New(store, log, cfg.ClusterCIDR)
	if err != nil {
		store.Close()
		return nil, err
	}
	s := &Scheduler{cfg: cfg, log: log, store: store}
	s.loop = loop.New(store, log)
	s.nodes = nodes.New(store, netw, log, cfg.HeartbeatInterval, cfg.LeaseDuration)
	s.server = grpc.NewServer()
	ordov1.RegisterControlServer(s.server, control.New(store, log, s.nodes.LastHeartbeat))
	ordov1.RegisterNodeServer(s.server, s.nodes)
	reflection.Register(s.server)
	for _, addr := range cfg.Listen {
		l, err := listen(addr)
		if err != nil {
			s.closeListeners()
			store.Close()
			return nil, err
		}
		s.listeners = append(s.listeners, l)
	}
	return s, nil
}

func (s *Scheduler) closeListeners() {
	for _, l := range s.listeners {
		l.Close()
	}
}

// listen opens unix:///path (stale socket removed, parent created, mode 0660)
// or tcp host:port (tcp:// prefix optional).
func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if path == "" {
			return nil, fmt.Errorf("--listen %q: empty socket path", addr)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("--listen %q: %w", addr, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--listen %q: remove stale socket: %w", addr, err)
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("--listen %q: %w", addr, err)
		}
		if err := os.Chmod(path, 0o660); err != nil {
			l.Close()
			return nil, fmt.Errorf("--listen %q: %w", addr, err)
		}
		return l, nil
	}
	l, err := net.Listen("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", addr, err)
	}
	return l, nil
}

// Serve runs the controller loop and the gRPC services until ctx is done, then
// stops gracefully and closes the store.
func (s *Scheduler) Serve(ctx context.Context) error {
	defer s.store.Close()
	if err := s.nodes.Start(); err != nil {
		s.closeListeners()
		return err
	}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.loop.Run(loopCtx) }()

	errc := make(chan error, len(s.listeners))
	for _, l := range s.listeners {
		s.log.Info("serving", "address", l.Addr().String(), "network", l.Addr().Network())
		go func(l net.Listener) { errc <- s.server.Serve(l) }(l)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		if err != nil {
			err = fmt.Errorf("serve: %w", err)
		}
	}
	s.log.Info("stopping")
	// Long-lived streams end first, so that the graceful stop does not wait for them.
	s.nodes.Stop()
	s.store.CloseWatches()
	stopped := make(chan struct{})
	go func() { s.server.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		s.server.Stop()
		<-stopped
	}
	stopLoop()
	wg.Wait()
	for _, addr := range s.cfg.Listen {
		if path, ok := strings.CutPrefix(addr, "unix://"); ok {
			os.Remove(path)
		}
	}
	return err
}

// Run starts the scheduler described by cfg and serves until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
