package controller

import (
	"sort"

	"google.golang.org/protobuf/proto"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// DefaultRevisionHistoryLimit is the number of unused revisions kept when
// spec.revision_history_limit is not set.
const DefaultRevisionHistoryLimit = 10

// history decides the changes to the revision history, as Kubernetes does
// with ControllerRevisions: the set's template becomes a revision numbered
// one above the highest (a template equal to an older revision's reuses that
// revision and bumps its number); revisions that are neither the current nor
// the update revision and that no pod runs are pruned, oldest first, beyond
// the history limit.
func (v *view) history(revs []ControllerRevision, pods []*ordov1.Pod) (*ControllerRevision, []string) {
	var highest int64
	var found *ControllerRevision
	for i := range revs {
		if revs[i].Number > highest {
			highest = revs[i].Number
		}
		if revs[i].Name == v.update && (found == nil || revs[i].Number > found.Number) {
			found = &revs[i]
		}
	}
	var newRev *ControllerRevision
	if found == nil || found.Number < highest || (found.Number == highest && highestShared(revs, highest)) {
		newRev = &ControllerRevision{Name: v.update, Number: highest + 1}
		if t := v.set.GetSpec().GetTemplate(); t != nil {
			newRev.Template = proto.Clone(t).(*ordov1.PodTemplate)
		}
	}

	live := map[string]bool{v.update: true, v.current: true}
	for _, p := range pods {
		if p != nil {
			live[p.GetRevision()] = true
		}
	}
	var old []ControllerRevision
	seen := map[string]bool{}
	for _, r := range revs {
		if live[r.Name] || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		old = append(old, r)
	}
	limit := int(v.set.GetSpec().GetRevisionHistoryLimit())
	if limit <= 0 {
		limit = DefaultRevisionHistoryLimit
	}
	if len(old) <= limit {
		return newRev, nil
	}
	sort.Slice(old, func(i, j int) bool {
		if old[i].Number != old[j].Number {
			return old[i].Number < old[j].Number
		}
		return old[i].Name < old[j].Name
	})
	var prune []string
	for _, r := range old[:len(old)-limit] {
		prune = append(prune, r.Name)
	}
	return newRev, prune
}

// highestShared reports whether more than one revision has number n, so the
// update revision's number does not make it the latest on its own.
func highestShared(revs []ControllerRevision, n int64) bool {
	names := map[string]bool{}
	for _, r := range revs {
		if r.Number == n {
			names[r.Name] = true
		}
	}
	return len(names) > 1
}
