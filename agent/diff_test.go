package agent

import (
	"reflect"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func pod(ns, name string, epoch uint64) *ordov1.Pod {
	return &ordov1.Pod{Metadata: &ordov1.ObjectMeta{Name: name, Namespace: ns}, Epoch: epoch}
}

func keysOf(pods []*ordov1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, podKeyOf(p))
	}
	return out
}

func TestPodKey(t *testing.T) {
	if got := podKey("", "web-0"); got != "web-0" {
		t.Errorf("podKey = %q", got)
	}
	if got := podKey("default", "web-0"); got != "web-0" {
		t.Errorf("podKey = %q", got)
	}
	if got := podKey("team-a", "web-0"); got != "web-0.team-a" {
		t.Errorf("podKey = %q", got)
	}
}

func TestDiffPods(t *testing.T) {
	running := map[string]runningPod{
		"web-0":        {Epoch: 1},                 // desired, same epoch: keep
		"web-1":        {Epoch: 2},                 // desired with epoch 5: replace
		"web-2":        {Epoch: 3},                 // not desired: stop
		"web-3":        {Epoch: 4, Stopping: true}, // being stopped, desired again
		"db-0.team-a":  {Epoch: 9, Stopping: true}, // being stopped, not desired: nothing
		"db-1.team-a":  {Epoch: 7},                 // same name, other namespace: stop
		"unrelated-0":  {Epoch: 1},
		"unrelated-10": {Epoch: 1},
	}
	desired := []*ordov1.Pod{
		pod("", "web-0", 1), pod("default", "web-1", 5), pod("", "web-3", 6),
		pod("", "web-4", 8), pod("", "db-1", 7),
		pod("", "web-4", 2), // duplicate with a lower epoch: the higher wins
	}
	plan := diffPods(desired, running)
	if got, want := keysOf(plan.Start), []string{"db-1", "web-4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Start = %v, want %v", got, want)
	}
	if plan.Start[1].GetEpoch() != 8 {
		t.Errorf("web-4 started with epoch %d, want the highest (8)", plan.Start[1].GetEpoch())
	}
	if got, want := keysOf(plan.Adopt), []string{"web-0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Adopt = %v, want %v", got, want)
	}
	if got, want := plan.Stop, []string{"web-1", "db-1.team-a", "unrelated-0", "unrelated-10", "web-2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Stop = %v, want %v", got, want)
	}
	if got, want := keysOf(plan.Wait), []string{"web-1", "web-3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Wait = %v, want %v", got, want)
	}
}

func TestDiffPodsIsLevelBased(t *testing.T) {
	desired := []*ordov1.Pod{pod("", "web-0", 1)}
	plan := diffPods(desired, map[string]runningPod{"web-0": {Epoch: 1}})
	if len(plan.Start)+len(plan.Stop)+len(plan.Wait) != 0 {
		t.Errorf("applying what already runs acts: %+v", plan)
	}
	plan = diffPods(nil, map[string]runningPod{})
	if len(plan.Start)+len(plan.Stop)+len(plan.Wait)+len(plan.Adopt) != 0 {
		t.Errorf("empty plan expected, got %+v", plan)
	}
}
