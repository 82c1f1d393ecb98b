package controller

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestDisruptionStatus(t *testing.T) {
	set := testSet("zk", 3, "")
	var pods []*ordov1.Pod
	for i := int32(0); i < 3; i++ {
		pods = append(pods, readyPod(set, i, "node-1", t0))
	}
	pods[2].Status.Ready = false
	sel := &ordov1.LabelSelector{MatchLabels: set.GetSpec().GetSelector().GetMatchLabels()}
	for _, c := range []struct {
		spec                      *ordov1.PodDisruptionBudgetSpec
		desired, allowed, healthy int32
	}{
		{&ordov1.PodDisruptionBudgetSpec{MinAvailable: "2", Selector: sel}, 2, 0, 2},
		{&ordov1.PodDisruptionBudgetSpec{MaxUnavailable: "1", Selector: sel}, 2, 0, 2},
		{&ordov1.PodDisruptionBudgetSpec{MinAvailable: "50%", Selector: sel}, 2, 0, 2},
		{&ordov1.PodDisruptionBudgetSpec{MinAvailable: "1", Selector: sel}, 1, 1, 2},
		{&ordov1.PodDisruptionBudgetSpec{MaxUnavailable: "34%", Selector: sel}, 1, 1, 2},
	} {
		pdb := &ordov1.PodDisruptionBudget{Metadata: &ordov1.ObjectMeta{Name: "zk-pdb", Namespace: "default"}, Spec: c.spec}
		st := DisruptionStatus(pdb, pods, []*ordov1.StatefulSet{set})
		if st.GetExpectedPods() != 3 || st.GetCurrentHealthy() != c.healthy || st.GetDesiredHealthy() != c.desired || st.GetDisruptionsAllowed() != c.allowed {
			t.Errorf("%v: status %v, want desired %d allowed %d", c.spec, st, c.desired, c.allowed)
		}
	}
	// A pod being deleted is not healthy.
	pods[0].Metadata.DeletionTime = timestamppb.New(t0.Add(time.Second))
	pdb := &ordov1.PodDisruptionBudget{Metadata: &ordov1.ObjectMeta{Name: "zk-pdb"}, Spec: &ordov1.PodDisruptionBudgetSpec{MinAvailable: "1", Selector: sel}}
	if st := DisruptionStatus(pdb, pods, []*ordov1.StatefulSet{set}); st.GetCurrentHealthy() != 1 || st.GetDisruptionsAllowed() != 0 {
		t.Errorf("with a pod being deleted: %v", st)
	}
}
