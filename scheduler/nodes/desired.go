package nodes

import (
	"sort"

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
		!equalMessages(old.GetResolvedVolumes(), nw.GetResolvedVolumes())
}

// configRefs lists the ConfigMaps and Secrets a pod names, in its
// containers' env and envFrom and in its volumes, sorted.
func configRefs(p *ordov1.Pod) (configMaps, secrets []string) {
	cms, secs := map[string]bool{}, map[string]bool{}
	spec := p.GetSpec()
	for _, c := range append(append([]*ordov1.Container(nil), spec.GetInitContainers()...), spec.GetContainers()...) {
		for _, e := range c.GetEnv() {
			if r := e.GetValueFrom().GetConfigMapKeyRef(); r != nil {
				cms[r.GetName()] = true
			}
			if r := e.GetValueFrom().GetSecretKeyRef(); r != nil {
				secs[r.GetName()] = true
			}
		}
		for _, e := range c.GetEnvFrom() {
			if e.GetConfigMap() != "" {
				cms[e.GetConfigMap()] = true
			}
			if e.GetSecret() != "" {
				secs[e.GetSecret()] = true
			}
		}
	}
	for _, v := range spec.GetVolumes() {
		if v.GetConfigMap() != nil {
			cms[v.GetConfigMap().GetName()] = true
		}
		if v.GetSecret() != nil {
			secs[v.GetSecret().GetSecretName()] = true
		}
		for _, src := range v.GetProjected().GetSources() {
			if src.GetConfigMap() != nil {
				cms[src.GetConfigMap().GetName()] = true
			}
			if src.GetSecret() != nil {
				secs[src.GetSecret().GetSecretName()] = true
			}
		}
	}
	return sortedSet(cms), sortedSet(secs)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// equalMessages compares two lists of messages element by element.
func equalMessages[T proto.Message](a, b []T) bool {
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
