package agent

import "time"

// Restart back-off of a crashing container: 100 ms doubling to 30 s; a container
// that ran for 10 s starts again from 100 ms.
const (
	restartBackoffBase  = 100 * time.Millisecond
	restartBackoffMax   = 30 * time.Second
	restartBackoffReset = 10 * time.Second
)

// restartDelay is the wait before the restart that follows n consecutive quick
// exits (n >= 1): 100 ms, 200 ms, 400 ms, ... capped at 30 s.
func restartDelay(n int) time.Duration {
	return backoff(n, restartBackoffBase, restartBackoffMax)
}

// backoff is base·2^(n-1) capped at max, for n >= 1 (n <= 0 gives base).
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n; i++ {
		d *= 2
		if d >= max {
			return max
		}
	}
	if d > max {
		return max
	}
	return d
}

// nextCrashCount is the consecutive-crash count after an exit: it starts again
// at 1 when the container had been running for restartBackoffReset.
func nextCrashCount(prev int, ran time.Duration) int {
	if ran >= restartBackoffReset {
		return 1
	}
	return prev + 1
}
