package scheduler

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// BenchmarkReadyToNextOrdinal measures, over real gRPC on a unix socket and a
// real bbolt file, the time from an agent sending "pod N is Ready" to it
// receiving the DesiredPods list that contains pod N+1 (OrderedReady). The
// pods spread over benchNodes agents, and belong to sets of benchSetSize
// replicas that are applied one after another, so the cluster grows with b.N
// (about 1,000 pods at the default bench time).
const (
	benchNodes   = 10
	benchSetSize = 20
)

func BenchmarkReadyToNextOrdinal(b *testing.B) {
	h := startHarness(b, b.TempDir())
	arrived := make(chan time.Time, 1)
	var wantMu sync.Mutex
	var want string
	var as agents
	for i := 0; i < benchNodes; i++ {
		a := newFakeAgent(b, "node-"+strconv.Itoa(i))
		a.maxPods = int32(b.N + 10)
		a.connect(h)
		a.mu.Lock()
		a.onDesired = func(pods []*ordov1.Pod) {
			now := time.Now()
			wantMu.Lock()
			target := want
			wantMu.Unlock()
			for _, p := range pods {
				if p.GetMetadata().GetName() == target {
					select {
					case arrived <- now:
					default:
					}
					return
				}
			}
		}
		a.mu.Unlock()
		as = append(as, a)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		set, pos := "s"+strconv.Itoa(i/(benchSetSize-1)), i%(benchSetSize-1)
		if pos == 0 {
			// A new set; its first pod is not measured.
			b.StopTimer()
			h.apply(setManifest(set, benchSetSize, "OrderedReady"))
			as.waitOwner(b, set+"-0")
			b.StartTimer()
		}
		name := set + "-" + strconv.Itoa(pos)
		a := findRunner(b, as, name)
		wantMu.Lock()
		want = set + "-" + strconv.Itoa(pos+1)
		wantMu.Unlock()
		start := time.Now()
		a.ready(name)
		select {
		case t := <-arrived:
			lat = append(lat, t.Sub(start))
		case <-time.After(waitLimit):
			b.Fatalf("%s never desired after %s was Ready", want, name)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(slices.Max(lat).Microseconds())/1000, "max-ms")
}
