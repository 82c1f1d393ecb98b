package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"

	"github.com/ordoproject/ordo/internal/testimage"
	"github.com/ordoproject/ordo/test/framework"
)

const benchOrdinals = 10

// BenchmarkOrderedBringUp brings up 10 ordinals OrderedReady on the local lab and
// reports the per-ordinal latency (Ready of N-1 to Ready of N) next to raw
// containerd create+start of the same image, measured in the same run.
//
//	go test ./test/e2e -run '^$' -bench OrderedBringUp -benchtime 1x
func BenchmarkOrderedBringUp(b *testing.B) {
	if err := clus.Unavailable(); err != nil {
		b.Fatalf("lab unavailable: %v", err)
	}
	var ordo, raw []time.Duration
	for i := 0; i < b.N; i++ {
		raw = append(raw, rawCreateStart(b, "node-1", benchOrdinals)...)
		ordo = append(ordo, ordoBringUp(b, fmt.Sprintf("bench%d", i))...)
	}
	report(b, "ordo", ordo)
	report(b, "raw", raw)
	b.ReportMetric(ms(pct(ordo, 50)-pct(raw, 50)), "overhead-p50-ms")
}

func ordoBringUp(b *testing.B, set string) []time.Duration {
	b.Helper()
	framework.Apply(b, clus, setManifest(set, "OrderedReady", benchOrdinals, plainSleeper))
	names := framework.PodNames(set, benchOrdinals)
	pods := framework.WaitSetReady(b, clus, set, names...)
	var d []time.Duration
	for i := 1; i < benchOrdinals; i++ {
		prev := pods[names[i-1]].GetStatus().GetReadyTime().AsTime()
		cur := pods[names[i]].GetStatus().GetReadyTime().AsTime()
		d = append(d, cur.Sub(prev))
	}
	framework.DeleteSet(b, clus, set)
	return d
}

// rawCreateStart creates and starts n containers of the test image straight
// through the node's containerd, as the baseline.
func rawCreateStart(b *testing.B, node string, n int) []time.Duration {
	b.Helper()
	sock := filepath.Join(clus.Dir, node, "containerd.sock")
	client, err := containerd.New(sock)
	if err != nil {
		b.Fatalf("containerd %s: %v", sock, err)
	}
	defer client.Close()
	// Runs last: runc leaves the namespace's parent cgroup behind.
	defer func() {
		// runc leaves the namespace's parent cgroup behind.
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/ordo-bench")
		for _, cg := range cgs {
			_ = os.Remove(cg)
		}
	}()
	// A namespace of its own, so that the node's agent never sees these containers.
	ctx := namespaces.WithNamespace(context.Background(), "ordo-bench")
	if err := testimage.Import(ctx, client, "ordo-bench", "ordo.local/busybox:latest"); err != nil {
		b.Fatalf("import test image: %v", err)
	}
	defer func() { _ = client.ImageService().Delete(ctx, "ordo.local/busybox:latest") }()
	img, err := client.GetImage(ctx, "ordo.local/busybox:latest")
	if err != nil {
		b.Fatalf("image: %v", err)
	}
	var d []time.Duration
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("raw-%d", i)
		start := time.Now()
		c, err := client.NewContainer(ctx, id,
			containerd.WithNewSnapshot(id, img),
			containerd.WithNewSpec(oci.WithImageConfig(img), oci.WithProcessArgs("sleep", "100000"), oci.WithHostname(id)))
		if err != nil {
			b.Fatalf("create %s: %v", id, err)
		}
		task, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			b.Fatalf("task %s: %v", id, err)
		}
		if err := task.Start(ctx); err != nil {
			b.Fatalf("start %s: %v", id, err)
		}
		d = append(d, time.Since(start))
		defer func() {
			ch, _ := task.Wait(ctx)
			_ = task.Kill(ctx, 9)
			<-ch
			_, _ = task.Delete(ctx)
			_ = c.Delete(ctx, containerd.WithSnapshotCleanup)
		}()
	}
	return d
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func report(b *testing.B, name string, d []time.Duration) {
	b.ReportMetric(ms(pct(d, 50)), name+"-p50-ms")
	b.ReportMetric(ms(pct(d, 99)), name+"-p99-ms")
	b.Logf("%s per ordinal: p50 %v p99 %v over %d samples %v", name, pct(d, 50), pct(d, 99), len(d), d)
}
