package state

import (
	"testing"

	"google.golang.org/protobuf/proto"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// The volumes that are not claims reach the agent as the pod declares them:
// host paths and emptyDirs to mount, config volumes whose files it writes.
func TestPrepareVolumesResolvesPodVolumes(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	set := testSet("app", 1)
	mode := int32(0o755)
	vols := []*ordov1.Volume{
		{Name: "cache", EmptyDir: &ordov1.EmptyDirVolumeSource{}},
		{Name: "host", HostPath: &ordov1.HostPathVolumeSource{Path: "/srv/app"}},
		{Name: "conf", ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app-conf", DefaultMode: &mode}},
		{Name: "creds", Secret: &ordov1.SecretVolumeSource{SecretName: "app-creds"}},
		{Name: "info", DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{{Path: "name", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
		{Name: "all", Projected: &ordov1.ProjectedVolumeSource{Sources: []*ordov1.VolumeProjection{{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app-conf"}}}}},
	}
	set.Spec.Template.Spec.Volumes = vols
	pod := &ordov1.Pod{
		Metadata: &ordov1.ObjectMeta{Name: "app-0", Namespace: "default"},
		SetName:  "app", NodeName: "node-1",
		Spec: proto.Clone(set.Spec.Template.Spec).(*ordov1.PodSpec),
	}
	if err := s.Update(func(tx *Tx) error { return tx.PrepareVolumes(set, pod, nil) }); err != nil {
		t.Fatal(err)
	}
	want := []*ordov1.ResolvedVolume{
		{Name: "cache", EmptyDir: vols[0].EmptyDir},
		{Name: "host", HostPath: vols[1].HostPath},
		{Name: "conf", ConfigMap: vols[2].ConfigMap},
		{Name: "creds", Secret: vols[3].Secret},
		{Name: "info", DownwardApi: vols[4].DownwardApi},
		{Name: "all", Projected: vols[5].Projected},
	}
	got := pod.GetResolvedVolumes()
	if len(got) != len(want) {
		t.Fatalf("resolved %d volumes, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("volume %d resolved as %v, want %v", i, got[i], want[i])
		}
	}
}
