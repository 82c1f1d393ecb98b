package agent

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// hookNetTimeout bounds one httpGet or tcpSocket hook.
const hookNetTimeout = 30 * time.Second

// ctrKind says what a container is to its pod.
type ctrKind int

const (
	appContainer  ctrKind = iota
	initContainer         // runs to completion before the app containers
	sidecar               // an init container with restartPolicy Always
)

// labelKind marks init containers and sidecars in containerd, so that an
// agent stopping a pod it only found there stops the sidecars last.
const labelKind = "ordo.dev/container-kind"

func (k ctrKind) label() string {
	return [...]string{"", "init", "sidecar"}[k]
}

// hookEvent is the result of container i's postStart hook.
type hookEvent struct {
	i, gen int
	err    error
}

// runHook runs a lifecycle handler against container c: exec in it, an HTTP
// GET or TCP connection to the pod (the probe code does those), or a sleep.
func (w *podWorker) runHook(ctx context.Context, c *ctrState, h *ordov1.LifecycleHandler) error {
	if h.GetSleep() {
		if !sleep(ctx, time.Duration(h.GetSleepSeconds())*time.Second) {
			return ctx.Err()
		}
		return nil
	}
	p := &ordov1.Probe{Exec: h.GetExec(), HttpGet: h.GetHttpGet(), TcpSocket: h.GetTcpSocket()}
	tg := probeTarget{rt: w.env.rt, containerID: c.id, netnsPath: w.netns.NetNSPath, podIP: w.netns.IP}
	pr := newProber(p, tg)
	if pr == nil {
		return nil
	}
	if p.GetExec() == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hookNetTimeout)
		defer cancel()
	}
	return pr.probe(ctx)
}

// runPostStart runs container i's postStart hook, if it has one. It only
// reads what does not change while the worker runs, so it may run beside the
// worker's loop.
func (w *podWorker) runPostStart(ctx context.Context, i int) error {
	c := w.ctrs[i]
	h := c.spec.GetLifecycle().GetPostStart()
	if h == nil {
		return nil
	}
	t0 := time.Now()
	err := w.runHook(ctx, c, h)
	w.log.Debug("postStart hook done", "container", c.spec.GetName(), "took", time.Since(t0), "err", err)
	return err
}

// failPostStart kills container i, whose postStart hook failed: its exit
// then counts as a failure with reason PostStartHookError.
func (w *podWorker) failPostStart(i int, err error) {
	c := w.ctrs[i]
	c.hookErr = fmt.Sprintf("PostStartHook failed: %v", err)
	c.msg = c.hookErr
	w.log.Warn("postStart hook failed, killing the container", "container", c.spec.GetName(), "err", err)
	if kerr := w.env.rt.Signal(w.ctx, c.id, syscall.SIGKILL); kerr != nil {
		w.log.Warn("kill container", "container", c.spec.GetName(), "err", kerr)
	}
}

// preStop runs c's preStop hook before it is stopped, bounded by deadline (the
// pod's grace period). A grace period of 0 runs none.
func (w *podWorker) preStop(ctx context.Context, c *ctrState, deadline time.Time) {
	h := c.spec.GetLifecycle().GetPreStop()
	if h == nil || w.grace <= 0 {
		return
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t0 := time.Now()
	if err := w.runHook(hctx, c, h); err != nil {
		w.log.Warn("preStop hook failed", "container", c.spec.GetName(), "err", err, "took", time.Since(t0))
		return
	}
	w.log.Debug("preStop hook done", "container", c.spec.GetName(), "took", time.Since(t0))
}

// stopContainer runs c's preStop hook (when it ran) and then stops it, the
// whole within deadline: SIGTERM, SIGKILL once deadline has passed.
func (w *podWorker) stopContainer(ctx context.Context, c *ctrState, wasRunning bool, deadline time.Time) error {
	if wasRunning && c.spec != nil {
		w.preStop(ctx, c, deadline)
	}
	return w.env.rt.Stop(ctx, c.id, max(time.Until(deadline), 0))
}

func deadlineAfter(d time.Duration) time.Time { return time.Now().Add(d) }

// stopInOrder stops the pod's containers within its grace period: the app
// (and init) containers together, each after its preStop hook, then the
// sidecars one by one, last first. Containers found in containerd that the
// worker has no spec for are stopped with the first group, or with the
// sidecars when labelled so. Failures are left to the caller's retries.
func (w *podWorker) stopInOrder(ctx context.Context, wasRunning []bool) {
	deadline := deadlineAfter(w.grace)
	known := map[string]bool{}
	var (
		first     []func() error
		sidecarFn []func() error
	)
	for i, c := range w.ctrs {
		known[c.id] = true
		fn := func() error { return w.stopContainer(ctx, c, wasRunning[i], deadline) }
		if c.kind == sidecar {
			sidecarFn = append([]func() error{fn}, sidecarFn...) // last first
			continue
		}
		first = append(first, fn)
	}
	for _, f := range w.found {
		if known[f.ID] {
			continue
		}
		id := f.ID
		fn := func() error { return w.env.rt.Stop(ctx, id, max(time.Until(deadline), 0)) }
		if f.Labels[labelKind] == sidecar.label() {
			sidecarFn = append(sidecarFn, fn)
			continue
		}
		first = append(first, fn)
	}
	var wg sync.WaitGroup
	for _, fn := range first {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				w.log.Warn("stop container", "err", err)
			}
		}()
	}
	wg.Wait()
	for _, fn := range sidecarFn {
		if err := fn(); err != nil {
			w.log.Warn("stop sidecar", "err", err)
		}
	}
}
