package cli

import (
	"strings"

	"github.com/ordoproject/ordo/internal/kinds"
)

// The workload kinds, by their internal/kinds names.
const (
	kindStatefulSet = kinds.StatefulSet
	kindService     = kinds.Service
	kindPod         = kinds.Pod
	kindNode        = kinds.Node
)

// lowerKind is how output names a kind: statefulset/web, service "nginx".
func lowerKind(kind string) string { return strings.ToLower(kind) }

// kindAndNames reads "KIND [NAME...]" or "KIND/NAME".
func kindAndNames(cmd string, pos []string) (*kinds.Kind, []string, error) {
	if len(pos) == 0 {
		return nil, nil, usagef("ordo %s needs a kind (statefulsets, pods, nodes, services)", cmd)
	}
	k, name, slash := strings.Cut(pos[0], "/")
	kind, err := kinds.Parse(k)
	if err != nil {
		return nil, nil, usagef("%s", err)
	}
	var names []string
	if slash {
		if name == "" {
			return nil, nil, usagef("%q: missing name after /", pos[0])
		}
		names = append(names, name)
	}
	for _, p := range pos[1:] {
		if k2, n2, ok := strings.Cut(p, "/"); ok {
			if kk, _ := kinds.Lookup(k2); kk != kind {
				return nil, nil, usagef("%q: all names must be of kind %s", p, kind.Name)
			}
			p = n2
		}
		names = append(names, p)
	}
	return kind, names, nil
}
