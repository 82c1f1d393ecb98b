package nodes

import (
	"google.golang.org/protobuf/proto"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// desiredView is a pod as its node is sent it: status is left out; it is
// the agent's to report.
func desiredView(p *ordov1.Pod) *ordov1.Pod {
	return &ordov1.Pod{
		Metadata:      p.Metadata,
		Spec:          p.Spec,
		NodeName:      p.NodeName,
		SetName:       p.SetName,
		Ordinal:       p.Ordinal,
		Revision:      p.Revision,
		Epoch:         p.Epoch,
		ScheduledTime: p.ScheduledTime,

		ResolvedVolumes: p.ResolvedVolumes,
	}
}

func equalPodLists(a, b []*ordov1.Pod) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Metadata == b[i].Metadata && a[i].Spec == b[i].Spec && a[i].Epoch == b[i].Epoch && a[i].NodeName == b[i].NodeName {
			continue
		}
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// desiredChanged reports whether a pod change can change a desired list
// (anything but the status).
func desiredChanged(old, nw *ordov1.Pod) bool {
	if old == nil || nw == nil {
		return true
	}
	return old.GetNodeName() != nw.GetNodeName() || old.GetEpoch() != nw.GetEpoch() ||
		(old.GetMetadata().GetDeletionTime() == nil) != (nw.GetMetadata().GetDeletionTime() == nil) ||
		old.GetRevision() != nw.GetRevision() ||
		!proto.Equal(old.GetSpec(), nw.GetSpec()) || !proto.Equal(old.GetMetadata(), nw.GetMetadata()) ||
		!equalResolved(old.GetResolvedVolumes(), nw.GetResolvedVolumes())
}

func equalResolved(a, b []*ordov1.ResolvedVolume) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
