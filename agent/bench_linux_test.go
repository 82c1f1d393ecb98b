package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"

	"github.com/ordoproject/ordo/internal/testimage"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// BenchmarkPodStart measures, against a real containerd, the time from the
// agent being told to run a pod to its report that the pod is Ready, next to
// raw containerd create+start of the same image in the same run.
//
//	go test ./agent -run '^$' -bench PodStart -benchtime 20x
func BenchmarkPodStart(b *testing.B) {
	c := sharedContainerd(b)
	ta := newTestAgent(b, c, b.TempDir())
	ta.Agent.log = slog.New(slog.NewTextHandler(io.Discard, nil))

	var agentD, rawD []time.Duration
	var pods []*ordov1.Pod
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-%d", i)
		pod := testPod(name, 1, &ordov1.Container{Name: "app", Command: []string{"sleep", "100000"}})
		pods = append(pods, pod)
		start := time.Now()
		ta.ApplyDesired(append([]*ordov1.Pod(nil), pods...))
		ta.waitReport(b, name+" ready", func(r *ordov1.PodStatusReport) bool {
			return r.GetName() == name && r.GetStatus().GetReady()
		})
		agentD = append(agentD, time.Since(start))
		rawD = append(rawD, rawStart(b, c.client, fmt.Sprintf("raw-%d", i)))
	}
	b.StopTimer()
	ta.ApplyDesired(nil)
	for range pods {
		ta.waitReport(b, "gone", func(r *ordov1.PodStatusReport) bool {
			return r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE
		})
	}
	b.ReportMetric(ms(p(agentD, 50)), "agent-p50-ms")
	b.ReportMetric(ms(p(rawD, 50)), "raw-p50-ms")
	b.ReportMetric(ms(p(agentD, 50)-p(rawD, 50)), "overhead-p50-ms")
}

func rawStart(b testing.TB, client *containerd.Client, id string) time.Duration {
	ctx := namespaces.WithNamespace(context.Background(), testNamespace)
	img, err := client.GetImage(ctx, testimage.DefaultName)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ctr, err := client.NewContainer(ctx, id, containerd.WithNewSnapshot(id, img),
		containerd.WithNewSpec(oci.WithImageConfig(img), oci.WithProcessArgs("sleep", "100000")))
	if err != nil {
		b.Fatal(err)
	}
	task, err := ctr.NewTask(ctx, cio.NullIO)
	if err != nil {
		b.Fatal(err)
	}
	if err := task.Start(ctx); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	b.Cleanup(func() {
		task.Delete(ctx, containerd.WithProcessKill)
		ctr.Delete(ctx, containerd.WithSnapshotCleanup)
	})
	return d
}

func p(d []time.Duration, pct int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*pct/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
