package agent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestTimingDefaults(t *testing.T) {
	got := timingOf(readinessProbe, &ordov1.Probe{})
	want := probeTiming{period: 10 * time.Second, timeout: time.Second, success: 1, failure: 3}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	got = timingOf(readinessProbe, &ordov1.Probe{PeriodMs: 200, SuccessThreshold: 2, InitialDelayMs: 50})
	if got.period != 200*time.Millisecond || got.success != 2 || got.initialDelay != 50*time.Millisecond {
		t.Errorf("sub-second readiness timing = %+v", got)
	}
	if got := timingOf(livenessProbe, &ordov1.Probe{SuccessThreshold: 4}); got.success != 1 {
		t.Errorf("liveness success threshold = %d, want 1", got.success)
	}
}

func TestProbeStateThresholds(t *testing.T) {
	tm := probeTiming{success: 2, failure: 3}
	r := newProbeState(readinessProbe, tm)
	if r.result != probeFailure {
		t.Fatalf("readiness starts %v, want failure (not ready)", r.result)
	}
	if r.observe(true) {
		t.Error("one success of two made the pod ready")
	}
	if !r.observe(true) || r.result != probeSuccess {
		t.Error("two successes did not make the pod ready")
	}
	r.observe(false)
	r.observe(false)
	if r.result != probeSuccess {
		t.Error("two failures of three made the pod unready")
	}
	r.observe(true) // resets the failure count
	r.observe(false)
	r.observe(false)
	if r.result != probeSuccess {
		t.Error("failures that were not consecutive made the pod unready")
	}
	if !r.observe(false) || r.result != probeFailure {
		t.Error("three consecutive failures did not make the pod unready")
	}

	l := newProbeState(livenessProbe, probeTiming{success: 1, failure: 1})
	if l.result != probeSuccess {
		t.Fatalf("liveness starts %v, want success", l.result)
	}
	if !l.observe(false) || l.result != probeFailure {
		t.Error("liveness with failureThreshold 1 did not fail")
	}

	s := newProbeState(startupProbe, probeTiming{success: 1, failure: 2})
	if s.result != probeUnknown {
		t.Fatalf("startup starts %v, want unknown", s.result)
	}
	if s.observe(false) {
		t.Error("startup failed before its threshold")
	}
	if !s.observe(true) || s.result != probeSuccess {
		t.Error("startup did not succeed")
	}
}

// scripted is a fake prober returning its outcomes in order, then success.
type scripted struct {
	mu   sync.Mutex
	errs []error
}

func (s *scripted) probe(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	e := s.errs[0]
	s.errs = s.errs[1:]
	return e
}

func TestRunProbeEmitsTransitions(t *testing.T) {
	bad := errors.New("connection refused")
	p := &scripted{errs: []error{bad, nil, bad, bad, nil}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan probeResult, 10)
	msgs := make(chan string, 10)
	tm := probeTiming{period: time.Millisecond, timeout: time.Second, success: 1, failure: 2}
	go runProbe(ctx, readinessProbe, tm, p, func(r probeResult, msg string) { got <- r; msgs <- msg })
	// fail (still not ready), ok -> ready, fail, fail -> unready, ok -> ready
	for i, want := range []probeResult{probeSuccess, probeFailure, probeSuccess} {
		if r := <-got; r != want {
			t.Fatalf("transition %d = %v, want %v", i, r, want)
		}
		m := <-msgs
		if want == probeFailure && m == "" {
			t.Error("failure transition without a message")
		}
	}
}

func TestStartupProbeStopsAfterSuccess(t *testing.T) {
	p := &scripted{errs: []error{errors.New("no"), nil}}
	done := make(chan struct{})
	var results []probeResult
	go func() {
		runProbe(context.Background(), startupProbe, probeTiming{period: time.Millisecond, timeout: time.Second, success: 1, failure: 5}, p,
			func(r probeResult, _ string) { results = append(results, r) })
		close(done)
	}()
	<-done
	if len(results) != 1 || results[0] != probeSuccess {
		t.Errorf("startup results = %v, want one success", results)
	}
}
