package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

const imageV2 = "ordo.local/busybox:v2"

// brokenSleeper never passes its readiness probe.
const brokenSleeper = `      containers:
      - name: app
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "exec sleep 100000"]
        readinessProbe:
          exec:
            command: ["test", "-f", "/nonexistent"]
          periodSeconds: 0.2
`

// withSpec adds lines to the spec of a setManifest (before podManagementPolicy).
func withSpec(manifest, lines string) string {
	i := strings.Index(manifest, "  podManagementPolicy:")
	return manifest[:i] + lines + manifest[i:]
}

// withAnnotations adds metadata annotations to a setManifest.
func withAnnotations(manifest, lines string) string {
	i := strings.Index(manifest, "spec:\n")
	return manifest[:i] + "  annotations:\n" + lines + manifest[i:]
}

func getSet(t testing.TB, name string) *ordov1.StatefulSet {
	t.Helper()
	o, err := framework.Get(clus, "StatefulSet", name)
	if err != nil {
		t.Fatalf("get statefulset %s: %v", name, err)
	}
	return o.GetStatefulSet()
}

func setImage(t testing.TB, set, container, image string) *ordov1.StatefulSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := clus.Control().SetImage(ctx, &ordov1.SetImageRequest{Name: set, Images: map[string]string{container: image}})
	if err != nil {
		t.Fatalf("set image %s %s=%s: %v", set, container, image, err)
	}
	return resp.GetStatefulSet()
}

// waitRevision waits until the set's status names revision as both update
// and current revision and every named pod is Ready on it; it returns the pods.
func waitRevision(t testing.TB, set, revision string, names ...string) map[string]*ordov1.Pod {
	t.Helper()
	var pods map[string]*ordov1.Pod
	framework.WaitFor(t, clus, fmt.Sprintf("%s rolled out to %s", set, revision), 180*time.Second, func() bool {
		st := getSet(t, set).GetStatus()
		if st.GetUpdateRevision() != revision || st.GetCurrentRevision() != revision || st.GetUpdatedReplicas() != int32(len(names)) {
			return false
		}
		pods = framework.ListPods(t, clus, set)
		if len(pods) != len(names) {
			return false
		}
		for _, n := range names {
			if !framework.Ready(pods[n]) || pods[n].GetRevision() != revision {
				return false
			}
		}
		return true
	})
	return pods
}

// replayUpdate replays the recorded pod changes from the state in start and
// checks at every step that no more than maxUnavailable ordinals were
// unavailable (missing, terminating or not Ready) and, when inOrder, that a
// pod started terminating only while every higher ordinal was Ready on
// revision. It returns the pods in the order they started terminating.
func replayUpdate(t testing.TB, rec *framework.Recorder, start map[string]*ordov1.Pod, n int, revision string, maxUnavailable int, inOrder bool) []string {
	t.Helper()
	state := map[int32]*ordov1.Pod{}
	for _, p := range start {
		state[p.GetOrdinal()] = p
	}
	var order []string
	terminating := map[int32]bool{}
	worst := 0
	for _, ev := range rec.Snapshot() {
		if ev.GetReason() != "" {
			continue
		}
		p := ev.GetPod()
		o := p.GetOrdinal()
		if ev.GetType() == ordov1.EventType_EVENT_TYPE_DELETED {
			delete(state, o)
			delete(terminating, o)
		} else {
			state[o] = p
		}
		if p.GetMetadata().GetDeletionTime() != nil && ev.GetType() != ordov1.EventType_EVENT_TYPE_DELETED && !terminating[o] {
			terminating[o] = true
			order = append(order, p.GetMetadata().GetName())
			if inOrder {
				for h := o + 1; h < int32(n); h++ {
					q := state[h]
					if !framework.Ready(q) || q.GetRevision() != revision {
						t.Errorf("%s started terminating while ordinal %d was not Ready on %s (%v)",
							p.GetMetadata().GetName(), h, revision, q.GetStatus())
					}
				}
			}
		}
		down := 0
		for i := int32(0); i < int32(n); i++ {
			if !framework.Ready(state[i]) {
				down++
			}
		}
		if down > worst {
			worst = down
		}
	}
	if worst > maxUnavailable {
		t.Errorf("%d pods were unavailable at once, more than %d", worst, maxUnavailable)
	}
	return order
}

// containerImage is the image containerd on node has for a pod's container.
func containerImage(t testing.TB, node, pod, container string) string {
	t.Helper()
	out := framework.MustExec(t, clus, node, "ctr", "-n", "ordo", "containers", "info",
		identity.ContainerID(identity.DefaultNamespace, pod, container))
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, `"Image":`) {
			return strings.Trim(strings.TrimPrefix(l, `"Image":`), ` ",`)
		}
	}
	t.Fatalf("no image in container info of %s on %s:\n%s", pod, node, out)
	return ""
}

// ordoCLIWithin runs the ordo command like ordoCLI, ended after timeout; it
// returns the output and the exit code.
func ordoCLIWithin(t *testing.T, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	if out, err := ordoCLI(t, "", "version"); err != nil {
		t.Fatalf("ordo version: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(os.TempDir(), "ordo-e2e-cli"), args...)
	cmd.Env = append(os.Environ(), "ORDO_ADDR="+clus.Socket())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("ordo %s did not finish within %v:\n%s", strings.Join(args, " "), timeout, out)
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ordo %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// Changing the image of a 3-replica set replaces web-2, web-1, web-0 in that
// order, each only after the one above it is Ready on the new revision; every
// pod comes back with its identity on the new image.
func TestRollingUpdateImage(t *testing.T) {
	framework.Need(t, clus)
	const set = "roll"
	framework.Apply(t, clus, setManifest(set, "OrderedReady", 3, plainSleeper))
	defer framework.DeleteSet(t, clus, set)
	before := framework.WaitSetReady(t, clus, set, "roll-0", "roll-1", "roll-2")
	oldRev := before["roll-0"].GetRevision()
	rec := framework.Record(t, clus, set)

	updated := setImage(t, set, "app", imageV2)
	newRev := updated.GetStatus().GetUpdateRevision()
	if newRev == "" || newRev == oldRev {
		// The status may not have been recomputed yet; the template decides.
		framework.WaitFor(t, clus, "update revision", 30*time.Second, func() bool {
			newRev = getSet(t, set).GetStatus().GetUpdateRevision()
			return newRev != "" && newRev != oldRev
		})
	}
	pods := waitRevision(t, set, newRev, "roll-0", "roll-1", "roll-2")

	order := replayUpdate(t, rec, before, 3, newRev, 1, true)
	if !slices.Equal(order, []string{"roll-2", "roll-1", "roll-0"}) {
		t.Errorf("update order %v, want roll-2, roll-1, roll-0", order)
	}
	for name, p := range pods {
		if p.GetEpoch() <= before[name].GetEpoch() {
			t.Errorf("%s epoch %d, not above %d: not recreated", name, p.GetEpoch(), before[name].GetEpoch())
		}
		if got := p.GetMetadata().GetLabels()["controller-revision-hash"]; got != newRev {
			t.Errorf("%s controller-revision-hash %q, want %q", name, got, newRev)
		}
		out, err := framework.ExecInPod(clus, p.GetNodeName(), name, "app", "hostname")
		if err != nil {
			t.Fatalf("hostname in %s: %v\n%s", name, err, out)
		}
		if got := strings.TrimSpace(out); got != name {
			t.Errorf("hostname in %s = %q", name, got)
		}
		if img := containerImage(t, p.GetNodeName(), name, "app"); img != imageV2 {
			t.Errorf("%s runs %s, want %s", name, img, imageV2)
		}
	}
	checkContainers(t, set, pods)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hist, err := clus.Control().RolloutHistory(ctx, &ordov1.RolloutHistoryRequest{Name: set})
	if err != nil {
		t.Fatalf("rollout history: %v", err)
	}
	var names []string
	for _, r := range hist.GetRevisions() {
		names = append(names, fmt.Sprintf("%d:%s", r.GetRevision(), r.GetMetadata().GetName()))
	}
	if want := []string{"1:" + oldRev, "2:" + newRev}; !slices.Equal(names, want) {
		t.Errorf("history %v, want %v", names, want)
	}

	// The same template again changes nothing.
	cur := getSet(t, set)
	setImage(t, set, "app", imageV2)
	if got := getSet(t, set); got.GetMetadata().GetGeneration() != cur.GetMetadata().GetGeneration() {
		t.Errorf("same image again bumped the generation to %d", got.GetMetadata().GetGeneration())
	}
	if got := epochs(framework.ListPods(t, clus, set)); !mapsEqual(got, epochs(pods)) {
		t.Errorf("same image again replaced pods: %v, were %v", got, epochs(pods))
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// partition 2 on 3 replicas updates only the last pod; lowering it to 0
// finishes the rollout from the top down.
func TestRollingUpdatePartition(t *testing.T) {
	framework.Need(t, clus)
	const set = "canary"
	partitioned := func(p int, image string) string {
		m := setManifest(set, "OrderedReady", 3, strings.Replace(plainSleeper, "ordo.local/busybox:latest", image, 1))
		return withSpec(m, fmt.Sprintf("  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      partition: %d\n", p))
	}
	framework.Apply(t, clus, partitioned(2, "ordo.local/busybox:latest"))
	defer framework.DeleteSet(t, clus, set)
	before := framework.WaitSetReady(t, clus, set, "canary-0", "canary-1", "canary-2")
	oldRev := before["canary-0"].GetRevision()

	framework.Apply(t, clus, partitioned(2, imageV2))
	var newRev string
	var pods map[string]*ordov1.Pod
	framework.WaitFor(t, clus, "canary-2 updated and Ready", 120*time.Second, func() bool {
		st := getSet(t, set).GetStatus()
		newRev = st.GetUpdateRevision()
		pods = framework.ListPods(t, clus, set)
		return newRev != oldRev && st.GetUpdatedReplicas() == 1 && framework.Ready(pods["canary-2"]) &&
			pods["canary-2"].GetRevision() == newRev
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := clus.Control().RolloutStatus(ctx, &ordov1.RolloutStatusRequest{Name: set})
	if err != nil {
		t.Fatal(err)
	}
	st, err := stream.Recv()
	if err != nil || !st.GetDone() || !strings.Contains(st.GetMessage(), "partitioned roll out complete") {
		t.Fatalf("rollout status at the partition: %v, %v", st, err)
	}
	pods = framework.ListPods(t, clus, set)
	for _, name := range []string{"canary-0", "canary-1"} {
		if p := pods[name]; p.GetEpoch() != before[name].GetEpoch() || p.GetRevision() != oldRev || !framework.Ready(p) {
			t.Errorf("%s below the partition changed: epoch %d (was %d), revision %s", name, p.GetEpoch(), before[name].GetEpoch(), p.GetRevision())
		}
	}
	if pods["canary-2"].GetEpoch() <= before["canary-2"].GetEpoch() {
		t.Errorf("canary-2 not recreated")
	}

	rec := framework.Record(t, clus, set)
	start := framework.ListPods(t, clus, set)
	framework.Apply(t, clus, partitioned(0, imageV2))
	waitRevision(t, set, newRev, "canary-0", "canary-1", "canary-2")
	if order := replayUpdate(t, rec, start, 3, newRev, 1, true); !slices.Equal(order, []string{"canary-1", "canary-0"}) {
		t.Errorf("after lowering the partition the update order is %v, want canary-1, canary-0", order)
	}
}

// A template whose pods never get Ready stops the rollout at the first pod;
// `ordo rollout undo` heals it without deleting anything by hand.
func TestBrokenUpdateStopsAndUndoHeals(t *testing.T) {
	framework.Need(t, clus)
	const set = "broken"
	framework.Apply(t, clus, setManifest(set, "OrderedReady", 3, plainSleeper))
	defer framework.DeleteSet(t, clus, set)
	before := framework.WaitSetReady(t, clus, set, "broken-0", "broken-1", "broken-2")
	goodRev := before["broken-0"].GetRevision()

	framework.Apply(t, clus, setManifest(set, "OrderedReady", 3, brokenSleeper))
	var pods map[string]*ordov1.Pod
	framework.WaitFor(t, clus, "broken-2 running on the broken template", 120*time.Second, func() bool {
		pods = framework.ListPods(t, clus, set)
		p := pods["broken-2"]
		return framework.Running(p) && p.GetRevision() != goodRev
	})
	badRev := pods["broken-2"].GetRevision()
	// Give the controller many chances to go further than it may.
	for i := 0; i < 20; i++ {
		pods = framework.ListPods(t, clus, set)
		if pods["broken-2"].GetStatus().GetReady() {
			t.Fatal("broken-2 Ready although its probe cannot pass")
		}
		for _, name := range []string{"broken-0", "broken-1"} {
			p := pods[name]
			if p.GetEpoch() != before[name].GetEpoch() || p.GetMetadata().GetDeletionTime() != nil || !framework.Ready(p) {
				t.Fatalf("%s touched while broken-2 is not Ready: %v", name, p)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := clus.Control().RolloutStatus(ctx, &ordov1.RolloutStatusRequest{Name: set})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := stream.Recv(); err != nil || st.GetDone() || st.GetFailed() || !strings.Contains(st.GetMessage(), "broken-2") {
		t.Errorf("rollout status of the stuck update: %v, %v", st, err)
	}

	rec := framework.Record(t, clus, set)
	out, code := ordoCLIWithin(t, 30*time.Second, "rollout", "undo", "sts/"+set)
	if code != 0 || !strings.Contains(out, "rolled back to revision") {
		t.Fatalf("ordo rollout undo: exit %d\n%s", code, out)
	}
	healed := waitRevision(t, set, goodRev, "broken-0", "broken-1", "broken-2")
	for _, name := range []string{"broken-0", "broken-1"} {
		if healed[name].GetEpoch() != before[name].GetEpoch() {
			t.Errorf("%s was replaced by the undo (epoch %d, was %d)", name, healed[name].GetEpoch(), before[name].GetEpoch())
		}
	}
	if healed["broken-2"].GetEpoch() <= pods["broken-2"].GetEpoch() {
		t.Errorf("broken-2 not recreated on the good revision")
	}
	if got := rec.Deleted(); !slices.Equal(got, []string{"broken-2"}) {
		t.Errorf("the undo deleted %v, want only broken-2", got)
	}
	if healed["broken-2"].GetRevision() == badRev {
		t.Errorf("broken-2 still on %s", badRev)
	}
}

// OnDelete: a new template changes no pod until the user deletes one, which
// comes back on the new revision.
func TestOnDeleteUpdatesDeletedPodsOnly(t *testing.T) {
	framework.Need(t, clus)
	const set = "ondel"
	framework.Apply(t, clus, withSpec(setManifest(set, "OrderedReady", 2, plainSleeper), "  updateStrategy:\n    type: OnDelete\n"))
	defer framework.DeleteSet(t, clus, set)
	before := framework.WaitSetReady(t, clus, set, "ondel-0", "ondel-1")
	oldRev := before["ondel-0"].GetRevision()

	updated := setImage(t, set, "app", imageV2)
	var newRev string
	framework.WaitFor(t, clus, "the new template observed", 30*time.Second, func() bool {
		st := getSet(t, set).GetStatus()
		newRev = st.GetUpdateRevision()
		return st.GetObservedGeneration() >= updated.GetMetadata().GetGeneration() && newRev != oldRev
	})
	for i := 0; i < 20; i++ {
		pods := framework.ListPods(t, clus, set)
		for name, p := range pods {
			if p.GetEpoch() != before[name].GetEpoch() || p.GetRevision() != oldRev {
				t.Fatalf("OnDelete replaced %s without a delete", name)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := framework.Delete(clus, "Pod", "ondel-1"); err != nil {
		t.Fatalf("delete pod ondel-1: %v", err)
	}
	var pods map[string]*ordov1.Pod
	framework.WaitFor(t, clus, "ondel-1 back on the new revision", 120*time.Second, func() bool {
		pods = framework.ListPods(t, clus, set)
		p := pods["ondel-1"]
		return framework.Ready(p) && p.GetEpoch() > before["ondel-1"].GetEpoch()
	})
	if pods["ondel-1"].GetRevision() != newRev {
		t.Errorf("ondel-1 came back on %s, want %s", pods["ondel-1"].GetRevision(), newRev)
	}
	if img := containerImage(t, pods["ondel-1"].GetNodeName(), "ondel-1", "app"); img != imageV2 {
		t.Errorf("ondel-1 runs %s", img)
	}
	if p := pods["ondel-0"]; p.GetEpoch() != before["ondel-0"].GetEpoch() || p.GetRevision() != oldRev {
		t.Errorf("ondel-0 changed: %v", p)
	}
}

// maxUnavailable 2 with Parallel: pods are updated up to two at a time, never
// more than two unavailable.
func TestMaxUnavailableParallel(t *testing.T) {
	framework.Need(t, clus)
	const set = "maxun"
	m := withSpec(setManifest(set, "Parallel", 4, plainSleeper),
		"  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 2\n")
	framework.Apply(t, clus, m)
	defer framework.DeleteSet(t, clus, set)
	names := []string{"maxun-0", "maxun-1", "maxun-2", "maxun-3"}
	before := framework.WaitSetReady(t, clus, set, names...)
	oldRev := before["maxun-0"].GetRevision()
	rec := framework.Record(t, clus, set)

	setImage(t, set, "app", imageV2)
	var newRev string
	framework.WaitFor(t, clus, "update revision", 30*time.Second, func() bool {
		newRev = getSet(t, set).GetStatus().GetUpdateRevision()
		return newRev != "" && newRev != oldRev
	})
	pods := waitRevision(t, set, newRev, names...)
	order := replayUpdate(t, rec, before, 4, newRev, 2, false)
	if len(order) != 4 {
		t.Errorf("pods replaced: %v, want each of the 4 once", order)
	}
	for name, p := range pods {
		if p.GetEpoch() <= before[name].GetEpoch() {
			t.Errorf("%s not recreated", name)
		}
	}
}

// `ordo rollout status` exits 0 on a finished rollout and 1 on one that
// failed and was rolled back automatically (ordo.dev/auto-rollback).
func TestRolloutStatusCLIExitCodes(t *testing.T) {
	framework.Need(t, clus)
	const set = "auto"
	annotated := func(spec string) string {
		return withAnnotations(setManifest(set, "OrderedReady", 2, spec), "    ordo.dev/auto-rollback: \"5\"\n")
	}
	// Brought up without the deadline: how long a first start takes is no failure.
	framework.Apply(t, clus, setManifest(set, "OrderedReady", 2, plainSleeper))
	defer framework.DeleteSet(t, clus, set)
	out, code := ordoCLIWithin(t, 120*time.Second, "rollout", "status", "sts/"+set)
	if code != 0 || !strings.Contains(out, "rolling update complete 2 pods") {
		t.Fatalf("rollout status of a healthy set: exit %d\n%s", code, out)
	}
	good := framework.WaitSetReady(t, clus, set, "auto-0", "auto-1")
	goodRev := good["auto-0"].GetRevision()

	framework.Apply(t, clus, annotated(brokenSleeper))
	out, code = ordoCLIWithin(t, 120*time.Second, "rollout", "status", "sts/"+set)
	if code != 1 || !strings.Contains(out, "rolled back") {
		t.Fatalf("rollout status of a failing update: exit %d, want 1\n%s", code, out)
	}
	waitRevision(t, set, goodRev, "auto-0", "auto-1")
	if p := framework.ListPods(t, clus, set)["auto-0"]; p.GetEpoch() != good["auto-0"].GetEpoch() {
		t.Errorf("auto-0 was replaced by a rollout that failed at auto-1")
	}
	set2 := getSet(t, set)
	var found bool
	for _, c := range set2.GetStatus().GetConditions() {
		if c.GetType() == "RollbackPerformed" && c.GetStatus() == "True" {
			found = true
		}
	}
	if !found {
		t.Errorf("no RollbackPerformed condition: %v", set2.GetStatus().GetConditions())
	}
	// A second status call keeps reporting the failure until a new template.
	if _, code := ordoCLIWithin(t, 30*time.Second, "rollout", "status", "sts/"+set, "--watch=false"); code != 1 {
		t.Errorf("rollout status --watch=false after the rollback: exit %d, want 1", code)
	}
}
