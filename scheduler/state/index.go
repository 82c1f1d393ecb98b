package state

import ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"

// podIndex finds pods by set ("<ns>/<set>") and by node name.
type podIndex struct {
	set  map[string]map[string]*ordov1.Pod
	node map[string]map[string]*ordov1.Pod
}

func newPodIndex() podIndex {
	return podIndex{set: map[string]map[string]*ordov1.Pod{}, node: map[string]map[string]*ordov1.Pod{}}
}

func setKeyOf(p *ordov1.Pod) string {
	if p.GetSetName() == "" {
		return ""
	}
	return Key(p.GetMetadata().GetNamespace(), p.GetSetName())
}

func (ix *podIndex) add(key string, p *ordov1.Pod) {
	if k := setKeyOf(p); k != "" {
		if ix.set[k] == nil {
			ix.set[k] = map[string]*ordov1.Pod{}
		}
		ix.set[k][key] = p
	}
	if n := p.GetNodeName(); n != "" {
		if ix.node[n] == nil {
			ix.node[n] = map[string]*ordov1.Pod{}
		}
		ix.node[n][key] = p
	}
}

func (ix *podIndex) remove(key string, p *ordov1.Pod) {
	if k := setKeyOf(p); k != "" {
		delete(ix.set[k], key)
		if len(ix.set[k]) == 0 {
			delete(ix.set, k)
		}
	}
	if n := p.GetNodeName(); n != "" {
		delete(ix.node[n], key)
		if len(ix.node[n]) == 0 {
			delete(ix.node, n)
		}
	}
}
