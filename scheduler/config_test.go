package scheduler

import (
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// A node's desired list carries the ConfigMaps and Secrets its pods name,
// and a changed ConfigMap reaches the node without any pod changing.
func TestDesiredPodsCarryConfigData(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	set := testSet("web", 1)
	c := set.Spec.Template.Spec.Containers[0]
	c.Env = []*ordov1.EnvVar{{Name: "PASS", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "creds", Key: "pass"}}}}
	set.Spec.Template.Spec.Volumes = []*ordov1.Volume{{Name: "conf", ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "web-conf"}}}
	cm := &ordov1.ConfigMap{Metadata: &ordov1.ObjectMeta{Name: "web-conf", Namespace: "default"}, Data: map[string]string{"a.conf": "x=1"}}
	other := &ordov1.ConfigMap{Metadata: &ordov1.ObjectMeta{Name: "unrelated", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	sec := &ordov1.Secret{Metadata: &ordov1.ObjectMeta{Name: "creds", Namespace: "default"}, Data: map[string][]byte{"pass": []byte("s3cret")}}
	if err := h.sched.store.Update(func(tx *state.Tx) error {
		for _, f := range []func() (string, error){
			func() (string, error) { return tx.ApplyConfigMap(cm) },
			func() (string, error) { return tx.ApplyConfigMap(other) },
			func() (string, error) { return tx.ApplySecret(sec) },
			func() (string, error) { return tx.ApplyStatefulSet(set) },
		} {
			if _, err := f(); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	a.waitState("web-0 with its config", func(a *fakeAgent) bool {
		return len(a.desired) == 1 && len(a.config.GetConfigMaps()) == 1 && a.config.GetConfigMaps()[0].GetData()["a.conf"] == "x=1" &&
			len(a.config.GetSecrets()) == 1 && string(a.config.GetSecrets()[0].GetData()["pass"]) == "s3cret"
	})
	cm2 := &ordov1.ConfigMap{Metadata: cm.Metadata, Data: map[string]string{"a.conf": "x=2"}}
	if err := h.sched.store.Update(func(tx *state.Tx) error { _, err := tx.ApplyConfigMap(cm2); return err }); err != nil {
		t.Fatal(err)
	}
	a.waitState("the new ConfigMap", func(a *fakeAgent) bool {
		return len(a.config.GetConfigMaps()) == 1 && a.config.GetConfigMaps()[0].GetData()["a.conf"] == "x=2"
	})
}
