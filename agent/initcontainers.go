package agent

import (
	"context"
	"fmt"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// runInit runs the pod's init containers one at a time, in order, each to
// success; a sidecar (restartPolicy Always) is started and left running. A
// failed init container is restarted with back-off unless the pod's
// restartPolicy is Never, which fails the pod. It returns true once every
// init container is done, false when the pod is stopped (ctx ends) first.
//
// A pod adopted with app containers already in containerd initialised
// before: its init containers are not run again, its sidecars are adopted.
func (w *podWorker) runInit(ctx context.Context) bool {
	if w.nInit == 0 {
		return true
	}
	if w.appFound() {
		for i := 0; i < w.nInit; i++ {
			c := w.ctrs[i]
			if c.kind == sidecar {
				if !w.startContainer(ctx, i) {
					return false
				}
				continue
			}
			c.done, c.reason = true, "Completed"
		}
		return true
	}
	w.phase = ordov1.PodPhase_POD_PHASE_PENDING
	w.initializing = true
	w.publish()
	for i := 0; i < w.nInit; i++ {
		c := w.ctrs[i]
		if !w.startContainer(ctx, i) {
			return false
		}
		if c.kind == sidecar {
			continue
		}
		for !c.done {
			select {
			case <-ctx.Done():
				return false
			case ev := <-w.events:
				w.handle(w.ctx, ev)
				w.publish()
			}
		}
	}
	w.initializing = false
	return true
}

// appFound tells whether containerd had an app container of the pod when the
// worker started (an agent restart after the pod initialised).
func (w *podWorker) appFound() bool {
	for _, f := range w.found {
		for _, c := range w.ctrs[w.nInit:] {
			if f.ID == c.id {
				return true
			}
		}
	}
	return false
}

// initReason is the pod's reason while it initialises, as kubectl shows it:
// Init:<done>/<all> while init container <done>+1 is created or runs,
// Init:<reason> while it failed (Init:Error, Init:CrashLoopBackOff,
// Init:ErrImagePull, ...).
func (w *podWorker) initReason() (reason, message string) {
	for i := 0; i < w.nInit; i++ {
		c := w.ctrs[i]
		switch {
		case c.done, c.kind == sidecar && c.running:
			continue
		case !c.running && c.reason != "" && c.reason != "Completed":
			return "Init:" + c.reason, c.msg
		}
		return fmt.Sprintf("Init:%d/%d", i, w.nInit), ""
	}
	return fmt.Sprintf("Init:%d/%d", w.nInit, w.nInit), ""
}

// restartable tells whether container c is started again after exiting
// with code (failed: the exit or its postStart hook failed).
func (w *podWorker) restartable(c *ctrState, code int32, failed bool) bool {
	switch c.kind {
	case sidecar:
		return !w.finished()
	case initContainer:
		return failed && w.pod.GetSpec().GetRestartPolicy() != "Never"
	default:
		return w.shouldRestart(code) || (failed && code == 0 && w.pod.GetSpec().GetRestartPolicy() != "Never")
	}
}

func (w *podWorker) finished() bool {
	return w.phase == ordov1.PodPhase_POD_PHASE_SUCCEEDED || w.phase == ordov1.PodPhase_POD_PHASE_FAILED
}

// stopSidecars stops the running sidecars once the app containers have
// finished for good (restartPolicy Never or OnFailure), last first.
func (w *podWorker) stopSidecars() {
	var cs []*ctrState
	for i := w.nInit - 1; i >= 0; i-- {
		if c := w.ctrs[i]; c.kind == sidecar && c.running {
			w.endIncarnation(c)
			c.reason, c.msg = "Completed", "stopped after the app containers finished"
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return
	}
	go func() {
		for _, c := range cs {
			if err := w.stopContainer(w.ctx, c, true, deadlineAfter(w.grace)); err != nil {
				w.log.Warn("stop sidecar", "container", c.spec.GetName(), "err", err)
			}
		}
	}()
}
