// Package control is where users enter the scheduler's loop:
//
//	manifest → Control.Apply → state (→ loop → nodes → agents)
//
// It is the Control gRPC service and nothing more: each RPC decodes and
// validates its request, runs one state transition (or reads the state),
// and converts errdefs errors to gRPC status codes at its boundary. It may
// not touch storage, call the other services, or decide what a set needs.
package control

import (
	"log/slog"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// Service implements the Control gRPC service.
type Service struct {
	ordov1.UnimplementedControlServer

	store *state.Store
	log   *slog.Logger
	// lastHeartbeat is when a node was last heard from (kept in memory by the
	// node service, never stored); nil: unknown.
	lastHeartbeat func(node string) time.Time
}

var _ ordov1.ControlServer = (*Service)(nil)

// New returns the Control service over store. lastHeartbeat, when not nil,
// says when a node was last heard from, for node views.
func New(store *state.Store, log *slog.Logger, lastHeartbeat func(node string) time.Time) *Service {
	return &Service{store: store, log: log, lastHeartbeat: lastHeartbeat}
}
