package agent

import (
	"sort"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// podKey names a pod on this node: "web-0", or "web-0.team-a" outside the
// default namespace. It also names the pod's state files and network namespace.
func podKey(namespace, name string) string {
	if namespace == "" || namespace == identity.DefaultNamespace {
		return name
	}
	return name + "." + namespace
}

func podKeyOf(p *ordov1.Pod) string {
	return podKey(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName())
}

// runningPod is what the agent runs under one pod key.
type runningPod struct {
	Epoch    uint64
	Stopping bool
}

// podPlan is what the agent must do to go from what runs to what is desired.
type podPlan struct {
	Start []*ordov1.Pod // nothing runs under the name: start it
	Adopt []*ordov1.Pod // the same epoch already runs: keep it
	Stop  []string      // keys to stop: not desired, or desired with another epoch
	Wait  []*ordov1.Pod // start once the old incarnation under that key is gone
}

// diffPods compares the desired pods with the running ones. It is level-based:
// applying the same inputs twice gives the same plan, and only what differs acts.
func diffPods(desired []*ordov1.Pod, running map[string]runningPod) podPlan {
	want := make(map[string]*ordov1.Pod, len(desired))
	for _, p := range desired {
		k := podKeyOf(p)
		if old, ok := want[k]; !ok || p.GetEpoch() > old.GetEpoch() {
			want[k] = p
		}
	}
	var plan podPlan
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := want[k]
		r, ok := running[k]
		switch {
		case !ok:
			plan.Start = append(plan.Start, p)
		case r.Epoch == p.GetEpoch() && !r.Stopping:
			plan.Adopt = append(plan.Adopt, p)
		case r.Epoch != p.GetEpoch() && !r.Stopping:
			plan.Stop = append(plan.Stop, k)
			plan.Wait = append(plan.Wait, p)
		default: // already stopping
			plan.Wait = append(plan.Wait, p)
		}
	}
	var stop []string
	for k, r := range running {
		if _, ok := want[k]; !ok && !r.Stopping {
			stop = append(stop, k)
		}
	}
	sort.Strings(stop)
	plan.Stop = append(plan.Stop, stop...)
	return plan
}
