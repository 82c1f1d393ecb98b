package binding

import (
	"strings"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

const gi = 1 << 30

type pvOpt func(*ordov1.PersistentVolume)

func pv(name string, size int64, class string, opts ...pvOpt) *ordov1.PersistentVolume {
	p := &ordov1.PersistentVolume{
		Metadata: &ordov1.ObjectMeta{Name: name},
		Spec: &ordov1.PersistentVolumeSpec{CapacityBytes: size, AccessModes: []string{"ReadWriteOnce"},
			StorageClassName: class, Local: &ordov1.LocalVolumeSource{Path: "/pv/" + name}},
		Status: &ordov1.PersistentVolumeStatus{Phase: PhaseAvailable},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(n string) pvOpt {
	return func(p *ordov1.PersistentVolume) {
		p.Spec.NodeAffinityRequired = []*ordov1.NodeSelectorTerm{{MatchExpressions: []*ordov1.NodeSelectorRequirement{
			{Key: LabelHostname, Operator: "In", Values: []string{n}}}}}
	}
}

func modes(m ...string) pvOpt {
	return func(p *ordov1.PersistentVolume) { p.Spec.AccessModes = m }
}

func labels(kv ...string) pvOpt {
	return func(p *ordov1.PersistentVolume) {
		p.Metadata.Labels = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			p.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func boundTo(ns, name, uid string) pvOpt {
	return func(p *ordov1.PersistentVolume) {
		p.Spec.ClaimRef = &ordov1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: name, Uid: uid}
		p.Status.Phase = PhaseBound
	}
}

func released(p *ordov1.PersistentVolume) { p.Status.Phase = PhaseReleased }

type claimOpt func(*ordov1.PersistentVolumeClaim)

func claim(name string, size int64, opts ...claimOpt) *ordov1.PersistentVolumeClaim {
	c := &ordov1.PersistentVolumeClaim{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name},
		Spec:     &ordov1.PersistentVolumeClaimSpec{AccessModes: []string{"ReadWriteOnce"}, StorageBytes: size, Storage: "1Gi"},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func class(n string) claimOpt {
	return func(c *ordov1.PersistentVolumeClaim) { c.Spec.StorageClassName, c.Spec.StorageClassSet = n, true }
}

func wantModes(m ...string) claimOpt {
	return func(c *ordov1.PersistentVolumeClaim) { c.Spec.AccessModes = m }
}

func selector(s *ordov1.LabelSelector) claimOpt {
	return func(c *ordov1.PersistentVolumeClaim) { c.Spec.Selector = s }
}

func volumeName(n string) claimOpt {
	return func(c *ordov1.PersistentVolumeClaim) { c.Spec.VolumeName = n }
}

func sc(name, mode string, def bool) *ordov1.StorageClass {
	return &ordov1.StorageClass{Metadata: &ordov1.ObjectMeta{Name: name}, Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: mode, IsDefault: def}
}

func node(name string, ready bool, kv ...string) *ordov1.NodeInfo {
	l := map[string]string{LabelHostname: name}
	for i := 0; i < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return &ordov1.NodeInfo{Metadata: &ordov1.ObjectMeta{Name: name, Labels: l}, Ready: ready}
}

func TestChoose(t *testing.T) {
	local := sc("local-storage", WaitForFirstConsumer, false)
	std := sc("standard", Immediate, true)
	tests := []struct {
		name    string
		claim   *ordov1.PersistentVolumeClaim
		pvs     []*ordov1.PersistentVolume
		classes []*ordov1.StorageClass
		node    map[string]string
		want    string // volume name, or "" for none
		reason  string // substring of the reason when none
	}{
		{name: "smallest fit wins", claim: claim("c", gi, class("local-storage")),
			pvs:  []*ordov1.PersistentVolume{pv("big", 10*gi, "local-storage"), pv("small", gi, "local-storage"), pv("mid", 2*gi, "local-storage")},
			want: "small"},
		{name: "too small is skipped", claim: claim("c", 2*gi, class("local-storage")),
			pvs:  []*ordov1.PersistentVolume{pv("a", gi, "local-storage"), pv("b", 5*gi, "local-storage")},
			want: "b"},
		{name: "ties broken by name", claim: claim("c", gi, class("x")),
			pvs:  []*ordov1.PersistentVolume{pv("b", gi, "x"), pv("a", gi, "x")},
			want: "a"},
		{name: "class must match", claim: claim("c", gi, class("fast")),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, "slow"), pv("b", gi, "")}, reason: "no PersistentVolume for claim c: needs 1Gi RWO class fast"},
		{name: "explicit empty class binds classless volumes only", claim: claim("c", gi, class("")),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, "standard"), pv("b", gi, "")}, classes: []*ordov1.StorageClass{std}, want: "b"},
		{name: "unset class takes the default class", claim: claim("c", gi),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, ""), pv("b", gi, "standard")}, classes: []*ordov1.StorageClass{std, local}, want: "b"},
		{name: "unset class without a default binds classless", claim: claim("c", gi),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, "local-storage"), pv("b", gi, "")}, classes: []*ordov1.StorageClass{local}, want: "b"},
		{name: "access modes must all be offered", claim: claim("c", gi, class("x"), wantModes("ReadWriteMany")),
			pvs:  []*ordov1.PersistentVolume{pv("rwo", gi, "x"), pv("rwx", 2*gi, "x", modes("ReadWriteOnce", "ReadWriteMany"))},
			want: "rwx"},
		{name: "no mode fits", claim: claim("c", gi, class("x"), wantModes("ReadOnlyMany")),
			pvs: []*ordov1.PersistentVolume{pv("rwo", gi, "x")}, reason: "needs 1Gi ROX class x"},
		{name: "matchLabels", claim: claim("c", gi, class("x"), selector(&ordov1.LabelSelector{MatchLabels: map[string]string{"release": "stable"}})),
			pvs:  []*ordov1.PersistentVolume{pv("a", gi, "x", labels("release", "canary")), pv("b", 2*gi, "x", labels("release", "stable"))},
			want: "b"},
		{name: "matchExpressions", claim: claim("c", gi, class("x"), selector(&ordov1.LabelSelector{MatchExpressions: []*ordov1.LabelSelectorRequirement{
			{Key: "environment", Operator: "In", Values: []string{"dev"}}, {Key: "legacy", Operator: "DoesNotExist"}}})),
			pvs:  []*ordov1.PersistentVolume{pv("a", gi, "x", labels("environment", "dev", "legacy", "y")), pv("b", 3*gi, "x", labels("environment", "dev")), pv("c", gi, "x", labels("environment", "prod"))},
			want: "b"},
		{name: "selector matches nothing", claim: claim("c", gi, class("x"), selector(&ordov1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}})),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, "x")}, reason: "matching its selector"},
		{name: "bound and released volumes are not free", claim: claim("c", gi, class("x")),
			pvs:  []*ordov1.PersistentVolume{pv("a", gi, "x", boundTo("default", "other", "u1")), pv("b", gi, "x", boundTo("default", "c", "old-uid"), released), pv("z", 4*gi, "x")},
			want: "z"},
		{name: "volume reserved for this claim", claim: claim("c", gi, class("x")),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, "x"), pv("mine", 9*gi, "x", func(p *ordov1.PersistentVolume) {
				p.Spec.ClaimRef = &ordov1.ObjectReference{Namespace: "default", Name: "c"}
			})},
			want: "a"},
		{name: "claim naming a volume", claim: claim("c", gi, class("x"), volumeName("big")),
			pvs: []*ordov1.PersistentVolume{pv("a", gi, "x"), pv("big", 9*gi, "x")}, want: "big"},
		{name: "node affinity admits the node", claim: claim("c", gi, class("local-storage")), classes: []*ordov1.StorageClass{local},
			pvs:  []*ordov1.PersistentVolume{pv("on1", gi, "local-storage", onNode("node-1")), pv("on2", gi, "local-storage", onNode("node-2"))},
			node: map[string]string{LabelHostname: "node-2"}, want: "on2"},
		{name: "node affinity admits no volume on the node", claim: claim("c", gi, class("local-storage")), classes: []*ordov1.StorageClass{local},
			pvs:  []*ordov1.PersistentVolume{pv("on1", gi, "local-storage", onNode("node-1"))},
			node: map[string]string{LabelHostname: "node-3"}, reason: "no PersistentVolume for claim c on node node-3"},
		{name: "no volumes at all", claim: claim("www-web-2", gi, class("local-storage")), classes: []*ordov1.StorageClass{local},
			reason: "no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := Choose(tc.claim, tc.pvs, tc.classes, tc.node)
			if tc.want != "" {
				if got.GetMetadata().GetName() != tc.want {
					t.Fatalf("Choose = %q (%s), want %q", got.GetMetadata().GetName(), why, tc.want)
				}
				return
			}
			if got != nil {
				t.Fatalf("Choose = %q, want none", got.GetMetadata().GetName())
			}
			if !strings.Contains(why, tc.reason) {
				t.Fatalf("reason %q does not contain %q", why, tc.reason)
			}
		})
	}
}

func TestNodes(t *testing.T) {
	local := sc("local-storage", WaitForFirstConsumer, false)
	imm := sc("standard", Immediate, false)
	classes := []*ordov1.StorageClass{local, imm}
	nodes := []*ordov1.NodeInfo{node("node-1", true), node("node-2", true), node("node-3", false)}
	pv1 := pv("pv1", gi, "local-storage", onNode("node-1"))
	pv2 := pv("pv2", gi, "local-storage", onNode("node-2"))
	anywhere := pv("shared", gi, "standard")
	tests := []struct {
		name   string
		claims []Claim
		pvs    []*ordov1.PersistentVolume
		want   []string // allowed nodes; nil = any
		reason string
	}{
		{name: "no claims: any node"},
		{name: "bound claim follows its pinned volume", claims: []Claim{{Claim: claim("c", gi, class("local-storage")), Volume: pv2}},
			want: []string{"node-2"}},
		{name: "bound claim on a volume without affinity", claims: []Claim{{Claim: claim("c", gi, class("standard")), Volume: anywhere}}},
		{name: "wait for first consumer: nodes of the candidates", claims: []Claim{{Claim: claim("c", gi, class("local-storage"))}},
			pvs: []*ordov1.PersistentVolume{pv1, pv2}, want: []string{"node-1", "node-2"}},
		{name: "wait for first consumer: only the free volume's node", claims: []Claim{{Claim: claim("c", gi, class("local-storage"))}},
			pvs: []*ordov1.PersistentVolume{pv("pv1", gi, "local-storage", onNode("node-1"), boundTo("default", "x", "u")), pv2}, want: []string{"node-2"}},
		{name: "no candidate volume", claims: []Claim{{Claim: claim("www-web-2", gi, class("local-storage"))}},
			pvs: []*ordov1.PersistentVolume{pv("small", 1<<20, "local-storage", onNode("node-1"))}, want: []string{},
			reason: "no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage"},
		{name: "immediate claim just created: any node its volume allows", claims: []Claim{{Claim: claim("c", gi, class("standard"))}},
			pvs: []*ordov1.PersistentVolume{anywhere}},
		{name: "immediate claim just created, pinned volume", claims: []Claim{{Claim: claim("c", gi, class("standard"))}},
			pvs: []*ordov1.PersistentVolume{pv("pinned", gi, "standard", onNode("node-2"))}, want: []string{"node-2"}},
		{name: "immediate claim without a volume", claims: []Claim{{Claim: claim("c", gi, class("standard"))}},
			want: []string{}, reason: "no PersistentVolume for claim c: needs 1Gi RWO class standard"},
		{name: "two claims intersect", claims: []Claim{
			{Claim: claim("a", gi, class("local-storage")), Volume: pv1},
			{Claim: claim("b", gi, class("local-storage"))}},
			pvs: []*ordov1.PersistentVolume{pv2}, want: []string{}, reason: "no PersistentVolume for claim b on a registered node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allowed, why := Nodes(tc.claims, tc.pvs, classes, nodes)
			if tc.want == nil {
				if allowed != nil || why != "" {
					t.Fatalf("Nodes = %v %q, want any node", allowed, why)
				}
				return
			}
			if len(allowed) != len(tc.want) {
				t.Fatalf("Nodes = %v %q, want %v", allowed, why, tc.want)
			}
			for _, n := range tc.want {
				if !allowed[n] {
					t.Fatalf("Nodes = %v, want %v", allowed, tc.want)
				}
			}
			if !strings.Contains(why, tc.reason) || (tc.reason == "" && why != "") {
				t.Fatalf("reason %q, want %q", why, tc.reason)
			}
		})
	}
}

func TestPinnedNode(t *testing.T) {
	if got := PinnedNode(pv("a", gi, "", onNode("node-7"))); got != "node-7" {
		t.Errorf("PinnedNode = %q", got)
	}
	if got := PinnedNode(pv("a", gi, "")); got != "" {
		t.Errorf("PinnedNode without affinity = %q", got)
	}
}

// A claim of a class whose provisioner ordo does not run, or of no known
// class, says so in its reason.
func TestNeedsNamesMissingProvisioner(t *testing.T) {
	classes := []*ordov1.StorageClass{{Metadata: &ordov1.ObjectMeta{Name: "standard"}, Provisioner: "kubernetes.io/gce-pd"}}
	c := &ordov1.PersistentVolumeClaim{Metadata: &ordov1.ObjectMeta{Name: "data-zk-0"}, Spec: &ordov1.PersistentVolumeClaimSpec{
		AccessModes: []string{"ReadWriteOnce"}, Storage: "10Gi", StorageBytes: 10 << 30, StorageClassName: "standard", StorageClassSet: true}}
	if _, why := Choose(c, nil, classes, nil); !strings.Contains(why, "provisioner kubernetes.io/gce-pd, which ordo does not run") {
		t.Fatalf("why = %q", why)
	}
	c.Spec.StorageClassName = "fast"
	if _, why := Choose(c, nil, classes, nil); !strings.Contains(why, `storageclass "fast" not found`) {
		t.Fatalf("why = %q", why)
	}
}
