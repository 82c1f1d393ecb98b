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
// containers' env and envFrom and in its volumes, sorted and without
// duplicates (nil for the many pods that name none).
func configRefs(p *ordov1.Pod) (configMaps, secrets []string) {
	spec := p.GetSpec()
	for _, cs := range [][]*ordov1.Container{spec.GetInitContainers(), spec.GetContainers()} {
		for _, c := range cs {
			for _, e := range c.GetEnv() {
				if r := e.GetValueFrom().GetConfigMapKeyRef(); r != nil {
					configMaps = append(configMaps, r.GetName())
				}
				if r := e.GetValueFrom().GetSecretKeyRef(); r != nil {
					secrets = append(secrets, r.GetName())
				}
			}
			for _, e := range c.GetEnvFrom() {
				if e.GetConfigMap() != "" {
					configMaps = append(configMaps, e.GetConfigMap())
				}
				if e.GetSecret() != "" {
					secrets = append(secrets, e.GetSecret())
				}
			}
		}
	}
	for _, v := range spec.GetVolumes() {
		if v.GetConfigMap() != nil {
			configMaps = append(configMaps, v.GetConfigMap().GetName())
		}
		if v.GetSecret() != nil {
			secrets = append(secrets, v.GetSecret().GetSecretName())
		}
		for _, src := range v.GetProjected().GetSources() {
			if src.GetConfigMap() != nil {
				configMaps = append(configMaps, src.GetConfigMap().GetName())
			}
			if src.GetSecret() != nil {
				secrets = append(secrets, src.GetSecret().GetSecretName())
			}
		}
	}
	return sortedSet(configMaps), sortedSet(secrets)
}

// sortedSet sorts names and drops duplicates and empty ones.
func sortedSet(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if n != "" && (i == 0 || n != names[i-1]) {
			out = append(out, n)
		}
	}
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
