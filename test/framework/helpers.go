package framework

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// rpcTimeout bounds each call of the scheduler's API.
const rpcTimeout = 10 * time.Second

// Apply applies a manifest (one or more YAML documents).
func Apply(t testing.TB, c Cluster, manifest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	if _, err := c.Control().Apply(ctx, &ordov1.ApplyRequest{Manifest: []byte(manifest)}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// List lists the objects of a kind.
func List(t testing.TB, c Cluster, kind string) *ordov1.ListResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	resp, err := c.Control().List(ctx, &ordov1.ListRequest{Kind: kind})
	if err != nil {
		t.Fatalf("list %s: %v", kind, err)
	}
	return resp
}

// Get reads one object; the error is the caller's to judge.
func Get(c Cluster, kind, name string) (*ordov1.Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	resp, err := c.Control().Get(ctx, &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: kind, Name: name}})
	return resp.GetObject(), err
}

// Delete deletes one object; the error is the caller's to judge.
func Delete(c Cluster, kind, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	_, err := c.Control().Delete(ctx, &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: kind, Name: name}})
	return err
}

// ListPods returns the pods of a set by name.
func ListPods(t testing.TB, c Cluster, set string) map[string]*ordov1.Pod {
	t.Helper()
	pods := map[string]*ordov1.Pod{}
	for _, p := range List(t, c, "Pod").GetPods() {
		if p.GetSetName() == set {
			pods[p.GetMetadata().GetName()] = p
		}
	}
	return pods
}

// Running tells whether a pod runs and is not being deleted.
func Running(p *ordov1.Pod) bool {
	return p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && p.GetMetadata().GetDeletionTime() == nil
}

// Ready tells whether a pod runs, is Ready and is not being deleted.
func Ready(p *ordov1.Pod) bool { return Running(p) && p.GetStatus().GetReady() }

// WaitFor polls cond at the cluster's pace until it holds, and fails the test
// once timeout has passed. It is how a test waits for the system to converge;
// no assertion here is about speed.
func WaitFor(t testing.TB, c Cluster, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(c.Waits().Poll)
	}
}

// PodNames names the pods of ordinals 0 … n-1 of a set.
func PodNames(set string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = identity.PodName(set, int32(i))
	}
	return names
}

// WaitSetReady waits until exactly the named pods of a set exist and are
// Ready, and returns them.
func WaitSetReady(t testing.TB, c Cluster, set string, names ...string) map[string]*ordov1.Pod {
	t.Helper()
	var pods map[string]*ordov1.Pod
	WaitFor(t, c, fmt.Sprintf("%s ready as %v", set, names), c.Waits().SetReady, func() bool {
		pods = ListPods(t, c, set)
		if len(pods) != len(names) {
			return false
		}
		for _, n := range names {
			if !Ready(pods[n]) {
				return false
			}
		}
		return true
	})
	return pods
}

// DeleteSet deletes a StatefulSet and waits until its pods are gone from the
// store and, where the cluster's Waits ask for it, from every node's
// containerd. A refused delete is reported and not waited for.
func DeleteSet(t testing.TB, c Cluster, set string) {
	t.Helper()
	if err := Delete(c, "StatefulSet", set); err != nil {
		t.Errorf("delete statefulset %s: %v", set, err)
		return
	}
	w := c.Waits()
	WaitFor(t, c, "pods of "+set+" gone", w.SetGone, func() bool { return len(ListPods(t, c, set)) == 0 })
	if w.ContainersGone == 0 {
		return
	}
	for _, node := range c.Nodes() {
		WaitFor(t, c, "containers of "+set+" gone from "+node, w.ContainersGone, func() bool {
			for _, id := range Containers(t, c, node) {
				if strings.HasPrefix(id, set+"-") {
					return false
				}
			}
			return true
		})
	}
}

// MustExec runs a command on a machine of the cluster and fails the test if
// it fails.
func MustExec(t testing.TB, c Cluster, node string, cmd ...string) string {
	t.Helper()
	out, err := c.Exec(context.Background(), node, cmd...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", node, strings.Join(cmd, " "), err, out)
	}
	return out
}

// ExecInPod runs a command in a pod's container; the error is the caller's to judge.
func ExecInPod(c Cluster, node, pod, container string, cmd ...string) (string, error) {
	return c.ExecInPod(context.Background(), node, pod, container, cmd...)
}

// MustExecInPod runs a command in a pod's container and fails the test if it fails.
func MustExecInPod(t testing.TB, c Cluster, node, pod, container string, cmd ...string) string {
	t.Helper()
	out, err := ExecInPod(c, node, pod, container, cmd...)
	if err != nil {
		t.Fatalf("%s: in %s/%s: %s: %v\n%s", node, pod, container, strings.Join(cmd, " "), err, out)
	}
	return out
}

// Containers lists, sorted, the container IDs in namespace ordo on a node, as
// a user would with `ctr -n ordo containers ls -q` there.
func Containers(t testing.TB, c Cluster, node string) []string {
	t.Helper()
	ids := strings.Fields(MustExec(t, c, node, "ctr", "-n", "ordo", "containers", "ls", "-q"))
	sort.Strings(ids)
	return ids
}

// ctrExec is the command line that runs cmd in a pod's container.
func ctrExec(execID, pod, container string, cmd []string) []string {
	id := identity.ContainerID(identity.DefaultNamespace, pod, container)
	return append([]string{"ctr", "-n", "ordo", "tasks", "exec", "--exec-id", execID, id}, cmd...)
}
