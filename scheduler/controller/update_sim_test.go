package controller

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Helpers of the simulation for updates: what the strategy allows, the
// revision history, and the user's side (template changes, pod deletions).

func (c *cluster) onDelete() bool {
	return c.set.GetSpec().GetUpdateStrategy().GetType() == StrategyOnDelete
}

// partition is the lowest ordinal a rolling update replaces.
func (c *cluster) partition() int32 {
	return c.set.Spec.OrdinalsStart + c.set.GetSpec().GetUpdateStrategy().GetRollingUpdate().GetPartition()
}

func (c *cluster) maxUnavailable() int {
	if k := c.set.GetSpec().GetUpdateStrategy().GetRollingUpdate().GetMaxUnavailable(); k > 0 {
		return int(k)
	}
	return 1
}

func (c *cluster) canBeReady(p *ordov1.Pod) bool {
	return !c.neverReady[p.Ordinal] && !c.badRevisions[p.Revision]
}

func (c *cluster) historyTemplate(name string) *ordov1.PodTemplate {
	for _, r := range c.revisions {
		if r.Name == name {
			return r.Template
		}
	}
	return nil
}

func (c *cluster) podOf(o int32) *ordov1.Pod {
	return c.pods[identity.PodName(c.set.Metadata.Name, o)]
}

// unavailable counts ordinals at or above the partition (in range) without
// an Available pod.
func (c *cluster) unavailable() int {
	_, end := c.desired()
	n := 0
	for o := c.partition(); o < end; o++ {
		p := c.podOf(o)
		if p == nil || p.Metadata.DeletionTime != nil {
			n++
			continue
		}
		if ok, _ := isAvailable(p, minReadyOf(c.set), c.now); !ok {
			n++
		}
	}
	return n
}

// checkUpdateDelete verifies the deletion of the in-range pod p, which is
// neither Failed nor Succeeded: only a rolling update may do that. It reports
// whether it was a rolling-update step (as opposed to replacing a pod that is
// not Ready at once).
func (c *cluster) checkUpdateDelete(p *ordov1.Pod, deleting map[string]bool) bool {
	c.t.Helper()
	name := p.Metadata.Name
	upd := Revision(c.set)
	switch {
	case p.Revision == upd:
		c.fatalf("deleted %s, which runs the update revision", name)
	case c.onDelete():
		c.fatalf("OnDelete: the controller deleted %s", name)
	case p.Ordinal < c.partition():
		c.fatalf("deleted %s below the partition %d", name, c.partition())
	}
	if !isRunningAndReady(p) {
		c.replacedAtOnce = append(c.replacedAtOnce, p.Ordinal)
		c.logf("%s replaced at once", name)
		return false
	}
	c.updateDeletes = append(c.updateDeletes, p.Ordinal)
	start, end := c.desired()
	for o := start; o < end; o++ {
		q := c.podOf(o)
		if q == nil || q.Metadata.DeletionTime != nil {
			c.fatalf("rolling update deleted %s while ordinal %d has no live pod", name, o)
		}
		if c.ordered() {
			if ok, _ := isAvailable(q, minReadyOf(c.set), c.now); !ok {
				c.fatalf("rolling update deleted %s while %s is not Available", name, q.Metadata.Name)
			}
		}
		if o > p.Ordinal && q.Revision != upd && !deleting[q.Metadata.Name] {
			c.fatalf("rolling update deleted %s before the higher outdated %s", name, q.Metadata.Name)
		}
	}
	if c.ordered() {
		for _, q := range c.pods {
			if q.Metadata.DeletionTime != nil || !c.inRange(q.Ordinal) {
				c.fatalf("rolling update deleted %s while %s is terminating or condemned", name, q.Metadata.Name)
			}
		}
	}
	return true
}

// checkRevisions verifies the history decisions and any rollback.
func (c *cluster) checkRevisions(res Result) {
	c.t.Helper()
	upd := Revision(c.set)
	var highest int64
	var found *ControllerRevision
	for i, r := range c.revisions {
		if r.Number > highest {
			highest = r.Number
		}
		if r.Name == upd {
			found = &c.revisions[i]
		}
	}
	wantNew := found == nil || found.Number < highest
	if nr := res.NewRevision; (nr != nil) != wantNew {
		c.fatalf("NewRevision %v; history %v, update revision %s", nr, revisionNames(c.revisions), upd)
	} else if nr != nil && (nr.Name != upd || nr.Number != highest+1 || !proto.Equal(nr.Template, c.set.Spec.Template)) {
		c.fatalf("NewRevision %s #%d, want %s #%d with the set's template", nr.Name, nr.Number, upd, highest+1)
	}
	live := map[string]bool{upd: true, res.Status.CurrentRevision: true}
	for _, p := range c.pods {
		live[p.Revision] = true
	}
	pruned := map[string]bool{}
	for _, name := range res.PruneRevisions {
		if live[name] {
			c.fatalf("pruned revision %s, which is in use (update %s, current %s)", name, upd, res.Status.CurrentRevision)
		}
		if c.historyTemplate(name) == nil {
			c.fatalf("pruned revision %s, which is not in the history", name)
		}
		pruned[name] = true
	}
	limit := int(c.set.Spec.RevisionHistoryLimit)
	if limit <= 0 {
		limit = DefaultRevisionHistoryLimit
	}
	unused := 0
	for _, r := range c.revisions {
		if !live[r.Name] && !pruned[r.Name] {
			unused++
		}
	}
	if unused > limit {
		c.fatalf("%d unused revisions kept, limit %d", unused, limit)
	}

	// Auto-rollback: exactly when a pod on the update revision missed the deadline.
	deadline, on := autoRollbackAfter(c.set)
	var late *ordov1.Pod
	if on {
		for _, p := range c.pods {
			if p.Revision == upd && c.inRange(p.Ordinal) && p.NodeName != "" && p.Metadata.DeletionTime == nil &&
				!isRunningAndReady(p) && p.Status.Phase != ordov1.PodPhase_POD_PHASE_UNKNOWN &&
				!c.now.Before(p.Metadata.CreationTime.AsTime().Add(deadline)) {
				late = p
			}
		}
	}
	cur := res.Status.CurrentRevision
	shouldRollBack := late != nil && cur != upd && c.historyTemplate(cur) != nil
	rb := res.Rollback
	if (rb != nil) != shouldRollBack {
		c.fatalf("Rollback %v; late pod %v, current %s, update %s", rb, late, cur, upd)
	}
	if rb != nil {
		if len(res.Actions) != 0 {
			c.fatalf("actions together with a rollback: %v", res.Actions)
		}
		s := proto.Clone(c.set).(*ordov1.StatefulSet)
		s.Spec.Template = rb.Template
		if rb.ToRevision != cur || Revision(s) != cur || rb.Reason == "" {
			c.fatalf("rollback to %s (template of %s), want %s", rb.ToRevision, Revision(s), cur)
		}
	}
}

func revisionNames(rs []ControllerRevision) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func minReadyOf(set *ordov1.StatefulSet) time.Duration {
	return time.Duration(set.GetSpec().GetMinReadySeconds()) * time.Second
}

// setImage changes the template, as `ordo apply` of an edited manifest does.
func (c *cluster) setImage(image string) {
	c.set.Spec.Template.Spec.Containers[0].Image = image
	c.set.Metadata.Generation++
	c.logf("template image %s (revision %s)", image, Revision(c.set))
}

// userDelete deletes ordinal o's pod, as `ordo delete pod` does.
func (c *cluster) userDelete(o int32) {
	p := c.podOf(o)
	p.Metadata.DeletionTime = timestamppb.New(c.now)
	c.logf("%s deleted by the user", p.Metadata.Name)
}

// epochs is the epoch of every pod by ordinal: a changed epoch is a new pod.
func (c *cluster) epochs() map[int32]uint64 {
	out := map[int32]uint64{}
	for _, p := range c.pods {
		out[p.Ordinal] = p.Epoch
	}
	return out
}

func (c *cluster) revisionsOfPods() map[int32]string {
	out := map[int32]string{}
	for _, p := range c.pods {
		out[p.Ordinal] = p.Revision
	}
	return out
}
