package agent

import (
	"testing"
	"time"
)

func TestRestartDelay(t *testing.T) {
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for i, w := range want {
		if got := restartDelay(i + 1); got != w {
			t.Errorf("restartDelay(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := restartDelay(9); got != 25600*time.Millisecond {
		t.Errorf("restartDelay(9) = %v, want 25.6s", got)
	}
	for _, n := range []int{10, 11, 50, 1000} {
		if got := restartDelay(n); got != 30*time.Second {
			t.Errorf("restartDelay(%d) = %v, want the 30s cap", n, got)
		}
	}
}

func TestBackoffStartsAtBase(t *testing.T) {
	if got := backoff(0, time.Second, time.Minute); got != time.Second {
		t.Errorf("backoff(0) = %v", got)
	}
	if got := backoff(3, 100*time.Millisecond, 5*time.Second); got != 400*time.Millisecond {
		t.Errorf("backoff(3) = %v", got)
	}
	if got := backoff(40, 100*time.Millisecond, 5*time.Second); got != 5*time.Second {
		t.Errorf("backoff(40) = %v", got)
	}
}

func TestCrashCountResetsAfterLongRun(t *testing.T) {
	if got := nextCrashCount(5, time.Second); got != 6 {
		t.Errorf("quick exit: %d, want 6", got)
	}
	if got := nextCrashCount(5, 10*time.Second); got != 1 {
		t.Errorf("exit after 10s of running: %d, want 1", got)
	}
}
