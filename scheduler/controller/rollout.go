package controller

import (
	"fmt"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// RolloutStatus says where the set's rollout stands, for `ordo rollout
// status`, from the set (its spec and the status Reconcile stored) and the
// set's pods:
//
//   - done: the controller has observed the current generation, every pod
//     in range exists and is Ready, and every pod the update strategy updates
//     (all of them, or those at and above the partition) runs the update
//     revision.
//   - failed: an automatic rollback was performed (condition
//     RollbackPerformed), or a pod on the update revision missed the
//     auto-rollback deadline (condition Progressing False). Both stay until a
//     different template is applied.
//
// message is one line for a person, in the words kubectl uses.
func RolloutStatus(set *ordov1.StatefulSet, pods []*ordov1.Pod) (done, failed bool, message string) {
	st := set.GetStatus()
	if gen := set.GetMetadata().GetGeneration(); st == nil || st.GetObservedGeneration() < gen {
		return false, false, "Waiting for the StatefulSet spec update to be observed..."
	}
	if c := findCondition(st.GetConditions(), ConditionRollbackPerformed); c != nil && c.GetStatus() == "True" {
		return false, true, "rollout failed and was rolled back: " + c.GetMessage()
	}
	if c := findCondition(st.GetConditions(), ConditionProgressing); c != nil && c.GetStatus() == "False" {
		return false, true, "rollout failed: " + c.GetMessage()
	}

	v := newView(Input{Set: set, Pods: pods})
	n := v.end - v.start
	keep := int64(0)
	if !v.onDelete {
		keep = v.partition - v.start
		if keep > n {
			keep = n
		}
	}
	var exist, ready, updated int64
	var notReady *ordov1.Pod
	for o := v.start; o < v.end; o++ {
		p := live(v.byOrdinal[o])
		if p == nil {
			continue
		}
		exist++
		if isRunningAndReady(p) {
			ready++
		} else if notReady == nil || p.GetRevision() == v.update {
			notReady = p
		}
		if p.GetRevision() == v.update && o >= v.partition {
			updated++
		}
	}
	if exist < n || ready < n {
		msg := fmt.Sprintf("Waiting for %d pods to be ready...", n-ready)
		if notReady != nil {
			msg += fmt.Sprintf(" (%s: %s)", notReady.GetMetadata().GetName(), describePod(notReady))
		}
		return false, false, msg
	}
	if keep > 0 {
		if updated < n-keep {
			return false, false, fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", updated, n-keep)
		}
		return true, false, fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", updated)
	}
	if updated < n {
		msg := fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", updated, v.update)
		if v.onDelete {
			msg = fmt.Sprintf("OnDelete: %d of %d pods at revision %s; delete pods to update them...", updated, n, v.update)
		}
		return false, false, msg
	}
	return true, false, fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", n, v.update)
}
