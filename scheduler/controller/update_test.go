package controller

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

const imageV2 = "ordo.local/busybox:v2"

func withStrategy(set *ordov1.StatefulSet, typ string, partition, maxUnavailable int32) *ordov1.StatefulSet {
	set.Spec.UpdateStrategy = &ordov1.UpdateStrategy{Type: typ, RollingUpdate: &ordov1.RollingUpdate{Partition: partition, MaxUnavailable: maxUnavailable}}
	return set
}

func descending(os []int32) bool {
	for i := 1; i < len(os); i++ {
		if os[i] >= os[i-1] {
			return false
		}
	}
	return true
}

func progressing(st *ordov1.StatefulSetStatus) *ordov1.Condition {
	return findCondition(st.GetConditions(), ConditionProgressing)
}

// A rolling update replaces every pod, highest ordinal first, never more than
// max_unavailable at once, each replacement Available before the next goes.
func TestSimulationRollingUpdate(t *testing.T) {
	for _, policy := range []string{"", PolicyParallel} {
		for _, maxUnavailable := range []int32{0, 1, 2} {
			for _, minReady := range []int32{0, 2} {
				for seed := int64(1); seed <= 15; seed++ {
					name := fmt.Sprintf("policy=%q/maxUnavailable=%d/minReady=%d/seed=%d", policy, maxUnavailable, minReady, seed)
					t.Run(name, func(t *testing.T) {
						replicas := int32(3)
						if maxUnavailable > 1 {
							replicas = 5
						}
						set := withStrategy(testSet("web", replicas, policy), "", 0, maxUnavailable)
						set.Spec.MinReadySeconds = minReady
						c := newCluster(t, seed, set)
						c.converged(c.settle())
						before := c.epochs()
						oldRev := Revision(c.set)
						if done, failed, msg := RolloutStatus(c.set, c.sortedPods()); !done || failed {
							c.fatalf("rollout status of the settled set: %v %v %q", done, failed, msg)
						}

						c.checkUnavailable = true
						c.setImage(imageV2)
						res := c.reconcile()
						if done, _, _ := RolloutStatus(c.set, c.sortedPods()); done {
							c.fatalf("rollout done right after the template changed")
						}
						if res.Status.CurrentRevision != oldRev || res.Status.UpdateRevision == oldRev {
							c.fatalf("status during the update: %v", res.Status)
						}
						c.randomSteps(300)
						res = c.settle()
						c.converged(res)

						want := make([]int32, 0, replicas)
						for o := replicas - 1; o >= 0; o-- {
							want = append(want, o)
						}
						if !reflect.DeepEqual(c.updateDeletes, want) {
							c.fatalf("update deleted ordinals %v, want %v", c.updateDeletes, want)
						}
						if len(c.replacedAtOnce) != 0 {
							c.fatalf("replaced at once %v with no broken pod", c.replacedAtOnce)
						}
						for o, e := range c.epochs() {
							if e == before[o] {
								c.fatalf("ordinal %d not replaced", o)
							}
						}
						if p := progressing(res.Status); p == nil || p.Status != "True" || p.Reason != ReasonRolloutComplete ||
							!strings.HasPrefix(p.Message, "complete") {
							c.fatalf("Progressing %v", p)
						}
						if done, failed, msg := RolloutStatus(c.set, c.sortedPods()); !done || failed ||
							msg != fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", replicas, Revision(c.set)) {
							c.fatalf("rollout status %v %v %q", done, failed, msg)
						}
					})
				}
			}
		}
	}
}

// The rolling update of an OrderedReady set goes web-2, web-1, web-0, and
// says so in its status.
func TestRollingUpdateStepByStep(t *testing.T) {
	c := newCluster(t, 1, testSet("web", 3, ""))
	c.converged(c.settle())
	c.setImage(imageV2)
	newRev := Revision(c.set)

	res := c.reconcile()
	if got := kinds(res); got != "DeletePod web-2" {
		c.fatalf("got %s", got)
	}
	if p := progressing(res.Status); p.Reason != ReasonRollingUpdate ||
		p.Message != "rolling update: 0 of 3 pods updated to revision "+newRev+", updating web-2" {
		c.fatalf("Progressing %v", p)
	}
	// web-2 terminating: nothing else happens.
	if res := c.reconcile(); len(res.Actions) != 0 {
		c.fatalf("got %s", kinds(res))
	}
	delete(c.pods, "web-2")
	res = c.reconcile()
	if got := kinds(res); got != "CreatePod web-2" || res.Actions[0].Pod.Revision != newRev {
		c.fatalf("got %s", got)
	}
	c.event() // clock moves
	p2 := c.pods["web-2"]
	p2.Status.Phase = ordov1.PodPhase_POD_PHASE_RUNNING
	res = c.reconcile()
	if len(res.Actions) != 0 {
		c.fatalf("web-1 went before web-2 is Ready: %s", kinds(res))
	}
	if p := progressing(res.Status); p.Message != "rolling update: 1 of 3 pods updated to revision "+newRev+", waiting for web-2 to become Ready (Running, not Ready)" {
		c.fatalf("Progressing %q", p.Message)
	}
	if res.Status.UpdatedReplicas != 1 || res.Status.CurrentReplicas != 2 {
		c.fatalf("status %v", res.Status)
	}
	c.makeReady(p2)
	if got := kinds(c.reconcile()); got != "DeletePod web-1" {
		c.fatalf("got %s", got)
	}
}

// partition 2 updates only web-2; a failed web-0 comes back on the old
// revision; lowering the partition to 0 finishes the update.
func TestSimulationPartition(t *testing.T) {
	for _, policy := range []string{"", PolicyParallel} {
		for seed := int64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("policy=%q/seed=%d", policy, seed), func(t *testing.T) {
				c := newCluster(t, seed, withStrategy(testSet("web", 3, policy), StrategyRollingUpdate, 2, 1))
				c.converged(c.settle())
				oldRev := Revision(c.set)
				before := c.epochs()
				c.checkUnavailable = true
				c.setImage(imageV2)
				newRev := Revision(c.set)
				c.randomSteps(200)
				res := c.settle()
				if got := c.revisionsOfPods(); got[0] != oldRev || got[1] != oldRev || got[2] != newRev {
					c.fatalf("revisions %v, want only web-2 on %s", got, newRev)
				}
				if e := c.epochs(); e[0] != before[0] || e[1] != before[1] {
					c.fatalf("web-0 or web-1 replaced below the partition")
				}
				st := res.Status
				if st.CurrentRevision != oldRev || st.UpdateRevision != newRev || st.CurrentReplicas != 2 || st.UpdatedReplicas != 1 || st.ReadyReplicas != 3 {
					c.fatalf("status %v", st)
				}
				if p := progressing(st); p.Reason != ReasonPartitionReached || !strings.HasPrefix(p.Message, "paused at partition 2: 1 of 3 pods updated") {
					c.fatalf("Progressing %v", p)
				}
				if done, failed, msg := RolloutStatus(c.set, c.sortedPods()); !done || failed || msg != "partitioned roll out complete: 1 new pods have been updated..." {
					c.fatalf("rollout status %v %v %q", done, failed, msg)
				}

				// web-0 fails: it comes back on the revision it ran.
				c.pods["web-0"].Status.Phase = ordov1.PodPhase_POD_PHASE_FAILED
				c.pods["web-0"].Status.Ready = false
				c.checkUnavailable = false
				c.settle()
				c.checkUnavailable = true
				if got := c.pods["web-0"]; got.Revision != oldRev || got.Epoch == before[0] ||
					got.Spec.Containers[0].Image != "ordo.local/busybox:latest" {
					c.fatalf("web-0 recreated on %s with image %s", got.Revision, got.Spec.Containers[0].Image)
				}

				c.set.Spec.UpdateStrategy.RollingUpdate.Partition = 0
				c.set.Metadata.Generation++
				c.randomSteps(200)
				c.converged(c.settle())
				if !reflect.DeepEqual(c.updateDeletes, []int32{2, 1, 0}) {
					c.fatalf("update deleted %v", c.updateDeletes)
				}
			})
		}
	}
}

// OnDelete: the controller never replaces a pod; those the user deletes come
// back on the update revision.
func TestSimulationOnDelete(t *testing.T) {
	for _, policy := range []string{"", PolicyParallel} {
		for seed := int64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("policy=%q/seed=%d", policy, seed), func(t *testing.T) {
				c := newCluster(t, seed, withStrategy(testSet("web", 3, policy), StrategyOnDelete, 0, 0))
				c.converged(c.settle())
				oldRev := Revision(c.set)
				before := c.epochs()
				c.setImage(imageV2)
				newRev := Revision(c.set)
				c.badRevisions[newRev] = false
				c.randomSteps(200)
				res := c.settle()
				if !reflect.DeepEqual(c.epochs(), before) {
					c.fatalf("OnDelete replaced pods by itself")
				}
				if p := progressing(res.Status); p.Reason != ReasonWaitingForDelete {
					c.fatalf("Progressing %v", p)
				}
				if done, _, _ := RolloutStatus(c.set, c.sortedPods()); done {
					c.fatalf("rollout done with no pod updated")
				}

				c.userDelete(1)
				c.randomSteps(100)
				c.settle()
				if got := c.revisionsOfPods(); got[0] != oldRev || got[1] != newRev || got[2] != oldRev {
					c.fatalf("revisions %v, want web-1 alone on %s", got, newRev)
				}
				if e := c.epochs(); e[0] != before[0] || e[2] != before[2] {
					c.fatalf("pods the user did not delete were replaced")
				}

				c.userDelete(0)
				c.userDelete(2)
				c.randomSteps(100)
				c.converged(c.settle())
				if len(c.updateDeletes)+len(c.replacedAtOnce) != 0 {
					c.fatalf("controller deleted %v %v", c.updateDeletes, c.replacedAtOnce)
				}
			})
		}
	}
}

// A broken update (the new revision never becomes Ready) stops at web-2 and
// leaves web-0 and web-1 alone; applying the old template again heals web-2
// with no pod deleted by hand, and so does applying a fixed template.
func TestSimulationBrokenUpdateHeals(t *testing.T) {
	for _, fix := range []string{"rollback", "fix-forward"} {
		for _, policy := range []string{"", PolicyParallel} {
			for seed := int64(1); seed <= 20; seed++ {
				t.Run(fmt.Sprintf("%s/policy=%q/seed=%d", fix, policy, seed), func(t *testing.T) {
					c := newCluster(t, seed, testSet("web", 3, policy))
					c.converged(c.settle())
					oldRev := Revision(c.set)
					before := c.epochs()
					c.checkUnavailable = true
					c.setImage("ordo.local/busybox:broken")
					badRev := Revision(c.set)
					c.badRevisions[badRev] = true
					c.randomSteps(200)
					res := c.settle()
					if got := c.revisionsOfPods(); got[0] != oldRev || got[1] != oldRev || got[2] != badRev {
						c.fatalf("revisions %v", got)
					}
					if e := c.epochs(); e[0] != before[0] || e[1] != before[1] {
						c.fatalf("web-0 or web-1 touched by a broken update")
					}
					if p := progressing(res.Status); p.Reason != ReasonRollingUpdate ||
						!strings.Contains(p.Message, "waiting for web-2 to become Ready") {
						c.fatalf("Progressing %v", p)
					}
					if done, failed, _ := RolloutStatus(c.set, c.sortedPods()); done || failed {
						c.fatalf("broken rollout without deadline: done=%v failed=%v", done, failed)
					}

					if fix == "rollback" {
						c.set.Spec.Template.Spec.Containers[0].Image = "ordo.local/busybox:latest"
						c.set.Metadata.Generation++
						if Revision(c.set) != oldRev {
							c.fatalf("re-applied template has revision %s, want %s", Revision(c.set), oldRev)
						}
					} else {
						c.setImage(imageV2)
					}
					c.randomSteps(200)
					c.converged(c.settle())
					if !reflect.DeepEqual(c.replacedAtOnce, []int32{2}) {
						c.fatalf("replaced at once %v, want web-2", c.replacedAtOnce)
					}
					if e := c.epochs(); fix == "rollback" && (e[0] != before[0] || e[1] != before[1]) {
						c.fatalf("rollback replaced web-0 or web-1")
					}
					// web-2 went for the broken update; then only a fixed
					// template rolls web-1 and web-0.
					want := []int32{2}
					if fix == "fix-forward" {
						want = []int32{2, 1, 0}
					}
					if !reflect.DeepEqual(c.updateDeletes, want) {
						c.fatalf("update deleted %v, want %v", c.updateDeletes, want)
					}
				})
			}
		}
	}
}

// With ordo.dev/auto-rollback the controller asks for the previous template
// once an updated pod stayed not Ready past the deadline.
func TestSimulationAutoRollback(t *testing.T) {
	for _, policy := range []string{"", PolicyParallel} {
		for seed := int64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("policy=%q/seed=%d", policy, seed), func(t *testing.T) {
				set := testSet("web", 3, policy)
				set.Metadata.Annotations = map[string]string{AnnotationAutoRollback: "60"}
				c := newCluster(t, seed, set)
				c.converged(c.settle())
				oldRev := Revision(c.set)
				before := c.epochs()
				c.setImage("ordo.local/busybox:broken")
				badRev := Revision(c.set)
				c.badRevisions[badRev] = true
				c.randomSteps(100)
				res := c.settle() // the clock runs past the deadline
				c.converged(res)
				if len(c.rollbacks) != 1 || c.rollbacks[0].ToRevision != oldRev ||
					!strings.Contains(c.rollbacks[0].Reason, "web-2 on revision "+badRev+" is not Ready 1m0s after it was created") {
					c.fatalf("rollbacks %v", c.rollbacks)
				}
				if e := c.epochs(); e[0] != before[0] || e[1] != before[1] {
					c.fatalf("web-0 or web-1 replaced")
				}
				rp := findCondition(res.Status.Conditions, ConditionRollbackPerformed)
				if rp == nil || rp.Status != "True" || rp.Reason != ReasonAutoRollback {
					c.fatalf("conditions %v", res.Status.Conditions)
				}
				if done, failed, msg := RolloutStatus(c.set, c.sortedPods()); done || !failed || !strings.Contains(msg, "rolled back") {
					c.fatalf("rollout status %v %v %q", done, failed, msg)
				}
				// A new template clears the record and rolls out.
				c.setImage(imageV2)
				res = c.settle()
				c.converged(res)
				if findCondition(res.Status.Conditions, ConditionRollbackPerformed) != nil {
					c.fatalf("RollbackPerformed kept after a new template: %v", res.Status.Conditions)
				}
				if done, failed, _ := RolloutStatus(c.set, c.sortedPods()); !done || failed {
					c.fatalf("rollout status after the new template: done=%v failed=%v", done, failed)
				}
			})
		}
	}
}

func TestAutoRollbackDeadline(t *testing.T) {
	set := testSet("web", 3, "")
	oldTmpl := proto.Clone(set.Spec.Template).(*ordov1.PodTemplate)
	oldRev := Revision(set)
	pods := []*ordov1.Pod{readyPod(set, 0, "node-1", t0), readyPod(set, 1, "node-2", t0)}
	set.Spec.Template.Spec.Containers[0].Image = "ordo.local/busybox:broken"
	set.Metadata.Generation = 2
	set.Metadata.Annotations = map[string]string{AnnotationAutoRollback: "60"}
	set.Status = &ordov1.StatefulSetStatus{ObservedGeneration: 1, CurrentRevision: oldRev, UpdateRevision: oldRev}
	badRev := Revision(set)
	p2 := NewPod(set, 2, badRev)
	p2.NodeName, p2.Epoch = "node-3", 9
	p2.Metadata.CreationTime = timestamppb.New(t0)
	p2.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_RUNNING, Restarts: 4,
		Containers: []*ordov1.ContainerStatus{{Name: "main", Reason: "CrashLoopBackOff"}}}
	pods = append(pods, p2)
	history := []ControllerRevision{{Name: oldRev, Number: 1, Template: oldTmpl}, {Name: badRev, Number: 2, Template: set.Spec.Template}}
	in := Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Revisions: history, Now: t0.Add(59 * time.Second)}

	r := Reconcile(in)
	if r.Rollback != nil || len(r.Actions) != 0 || r.RequeueAfter != time.Second {
		t.Fatalf("before the deadline: rollback %v, %s, requeue %v", r.Rollback, kinds(r), r.RequeueAfter)
	}
	if p := progressing(r.Status); p.Status != "True" {
		t.Fatalf("Progressing %v", p)
	}

	in.Now = t0.Add(60 * time.Second)
	r = Reconcile(in)
	if r.Rollback == nil || r.Rollback.ToRevision != oldRev || !proto.Equal(r.Rollback.Template, oldTmpl) || len(r.Actions) != 0 {
		t.Fatalf("at the deadline: %+v, %s", r.Rollback, kinds(r))
	}
	wantReason := "web-2 on revision " + badRev + " is not Ready 1m0s after it was created (Running, CrashLoopBackOff, not Ready, 4 restarts); rolling back to revision " + oldRev
	if r.Rollback.Reason != wantReason {
		t.Fatalf("reason %q\nwant   %q", r.Rollback.Reason, wantReason)
	}
	p := progressing(r.Status)
	rp := findCondition(r.Status.Conditions, ConditionRollbackPerformed)
	if p.Status != "False" || p.Reason != ReasonProgressDeadlineExceeded || rp == nil || rp.Message != wantReason {
		t.Fatalf("conditions %v", r.Status.Conditions)
	}
	set.Status = r.Status
	if done, failed, msg := RolloutStatus(set, pods); done || !failed || !strings.Contains(msg, "CrashLoopBackOff") {
		t.Fatalf("rollout status %v %v %q", done, failed, msg)
	}

	// Without the old template in the history there is nothing to restore.
	set.Status = &ordov1.StatefulSetStatus{ObservedGeneration: 1, CurrentRevision: oldRev}
	in.Revisions = history[1:]
	r = Reconcile(in)
	if r.Rollback != nil || !strings.Contains(progressing(r.Status).Message, "cannot roll back: revision "+oldRev+" is not in the revision history") {
		t.Fatalf("rollback %v, conditions %v", r.Rollback, r.Status.Conditions)
	}
	// Without the annotation: no rollback, however long it takes.
	set.Metadata.Annotations = nil
	in.Revisions = history
	in.Now = t0.Add(time.Hour)
	if r := Reconcile(in); r.Rollback != nil || r.RequeueAfter != 0 || progressing(r.Status).Status != "True" {
		t.Fatalf("without annotation: %v, requeue %v", r.Rollback, r.RequeueAfter)
	}
}

// A pod that is not Ready on an outdated revision is replaced at once under
// RollingUpdate, at or above the partition; never under OnDelete.
func TestNotReadyOutdatedPodIsReplacedAtOnce(t *testing.T) {
	set := testSet("web", 3, "")
	var pods []*ordov1.Pod
	for o := int32(0); o < 3; o++ {
		pods = append(pods, readyPod(set, o, "node-1", t0))
	}
	pods[0].Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_RUNNING,
		Containers: []*ordov1.ContainerStatus{{Name: "main", Reason: "CrashLoopBackOff"}}}
	set.Spec.Template.Spec.Containers[0].Image = imageV2
	in := Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0}

	r := Reconcile(in)
	if got := kinds(r); got != "DeletePod web-0" {
		t.Fatalf("RollingUpdate: got %s", got)
	}
	if !strings.Contains(r.Actions[0].Reason, "not Ready on the outdated revision") {
		t.Errorf("reason %q", r.Actions[0].Reason)
	}
	withStrategy(set, StrategyRollingUpdate, 1, 1)
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("below the partition: got %s", kinds(r))
	}
	withStrategy(set, StrategyOnDelete, 0, 0)
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("OnDelete: got %s", kinds(r))
	}
	// On the update revision it is waited for, as always.
	withStrategy(set, "", 0, 0)
	pods[0] = readyPod(set, 0, "node-1", t0)
	pods[0].Status.Ready = false
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("updated pod not Ready: got %s", kinds(r))
	}
}

func TestRevisionHistory(t *testing.T) {
	set := testSet("web", 0, "")
	revA := Revision(set)
	in := Input{Set: set, Nodes: threeReadyNodes(), Now: t0}

	r := Reconcile(in)
	if r.NewRevision == nil || r.NewRevision.Name != revA || r.NewRevision.Number != 1 || !proto.Equal(r.NewRevision.Template, set.Spec.Template) {
		t.Fatalf("first revision %+v", r.NewRevision)
	}
	in.Revisions = []ControllerRevision{*r.NewRevision}
	if r := Reconcile(in); r.NewRevision != nil || r.PruneRevisions != nil {
		t.Fatalf("unchanged template: %+v %v", r.NewRevision, r.PruneRevisions)
	}

	set.Spec.Template.Spec.Containers[0].Image = imageV2
	revB := Revision(set)
	r = Reconcile(in)
	if r.NewRevision == nil || r.NewRevision.Name != revB || r.NewRevision.Number != 2 {
		t.Fatalf("second revision %+v", r.NewRevision)
	}
	in.Revisions = append(in.Revisions, *r.NewRevision)

	// Back to the first template: revision A is reused with number 3.
	set.Spec.Template.Spec.Containers[0].Image = "ordo.local/busybox:latest"
	r = Reconcile(in)
	if r.NewRevision == nil || r.NewRevision.Name != revA || r.NewRevision.Number != 3 {
		t.Fatalf("re-applied revision %+v", r.NewRevision)
	}
}

func TestRevisionHistoryPruning(t *testing.T) {
	set := testSet("web", 2, "")
	var history []ControllerRevision
	names := map[int]string{}
	for i := 1; i <= 6; i++ {
		set.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("ordo.local/busybox:v%d", i)
		names[i] = Revision(set)
		history = append(history, ControllerRevision{Name: names[i], Number: int64(i), Template: proto.Clone(set.Spec.Template).(*ordov1.PodTemplate)})
	}
	// Template is v6; a pod runs v2, the current revision is v3.
	set.Status = &ordov1.StatefulSetStatus{CurrentRevision: names[3]}
	p := readyPod(set, 0, "node-1", t0)
	p.Revision = names[2]
	pods := []*ordov1.Pod{p}
	in := Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Revisions: history, Now: t0}

	for _, tc := range []struct {
		limit int32
		want  []string
	}{
		{0, nil}, // default 10
		{3, nil},
		{2, []string{names[1]}},
		{1, []string{names[1], names[4]}},
	} {
		set.Spec.RevisionHistoryLimit = tc.limit
		r := Reconcile(in)
		if !reflect.DeepEqual(r.PruneRevisions, tc.want) {
			t.Errorf("limit %d: pruned %v, want %v", tc.limit, r.PruneRevisions, tc.want)
		}
		if r.NewRevision != nil {
			t.Errorf("limit %d: NewRevision %+v", tc.limit, r.NewRevision)
		}
	}
}

// Applying the very same template again changes nothing.
func TestReapplySameTemplateChangesNothing(t *testing.T) {
	for _, policy := range []string{"", PolicyParallel} {
		c := newCluster(t, 7, testSet("web", 3, policy))
		c.converged(c.settle())
		before := c.epochs()
		status := proto.Clone(c.set.Status).(*ordov1.StatefulSetStatus)
		c.set.Spec.Template = proto.Clone(c.set.Spec.Template).(*ordov1.PodTemplate)
		c.set.Metadata.Generation++
		res := c.reconcile()
		if len(res.Actions) != 0 || res.NewRevision != nil || res.PruneRevisions != nil || res.Rollback != nil || res.RequeueAfter != 0 {
			c.fatalf("re-apply acted: %s %+v %v", kinds(res), res.NewRevision, res.PruneRevisions)
		}
		status.ObservedGeneration = c.set.Metadata.Generation
		if !proto.Equal(res.Status, status) {
			c.fatalf("status changed beyond the generation:\n%v\n%v", res.Status, status)
		}
		if !reflect.DeepEqual(c.epochs(), before) {
			c.fatalf("pods replaced")
		}
	}
}

// Conditions keep their transition time while their status stays.
func TestConditionTransitionTime(t *testing.T) {
	c := newCluster(t, 3, testSet("web", 2, ""))
	c.converged(c.settle())
	first := progressing(c.set.Status).LastTransitionTime.AsTime()
	c.setImage(imageV2)
	c.now = c.now.Add(time.Minute)
	res := c.reconcile()
	p := progressing(res.Status)
	if p.Reason != ReasonRollingUpdate || !p.LastTransitionTime.AsTime().Equal(first) {
		c.fatalf("Progressing %v (first transition %v)", p, first)
	}
}

// As in Kubernetes, the partition counts from spec.ordinals.start: with
// ordinals 5..7 and partition 2 only web-7 is updated.
func TestSimulationPartitionWithOrdinalsStart(t *testing.T) {
	for seed := int64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			set := withStrategy(testSet("web", 3, ""), "", 2, 1)
			set.Spec.OrdinalsStart = 5
			c := newCluster(t, seed, set)
			c.converged(c.settle())
			oldRev := Revision(c.set)
			c.checkUnavailable = true
			c.setImage(imageV2)
			c.randomSteps(150)
			c.settle()
			if got := c.revisionsOfPods(); got[5] != oldRev || got[6] != oldRev || got[7] != Revision(c.set) {
				c.fatalf("revisions %v", got)
			}
			c.set.Spec.UpdateStrategy.RollingUpdate.Partition = 0
			c.set.Metadata.Generation++
			c.converged(c.settle())
			if !reflect.DeepEqual(c.updateDeletes, []int32{7, 6, 5}) {
				c.fatalf("update deleted %v", c.updateDeletes)
			}
		})
	}
}
