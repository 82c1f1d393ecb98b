package agent

import (
	"errors"
	"reflect"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestEffectiveSecurity(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	b := func(v bool) *bool { return &v }
	pod := &ordov1.PodSecurityContext{RunAsUser: i(1000), RunAsGroup: i(3000), RunAsNonRoot: b(true),
		SupplementalGroups: []int64{4000}, FsGroup: i(2000), SeccompProfile: "RuntimeDefault"}
	got := effectiveSecurity(pod, nil)
	want := Security{RunAsUser: i(1000), RunAsGroup: i(3000), RunAsNonRoot: true, SupplementalGroups: []int64{4000, 2000}, SeccompProfile: "RuntimeDefault"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pod only: %+v", got)
	}
	got = effectiveSecurity(pod, &ordov1.SecurityContext{RunAsUser: i(0), RunAsNonRoot: b(false), Privileged: b(true),
		Capabilities: &ordov1.Capabilities{Add: []string{"NET_ADMIN"}}, ReadOnlyRootFilesystem: b(true),
		AllowPrivilegeEscalation: b(false), SeccompProfile: "Unconfined"})
	if *got.RunAsUser != 0 || *got.RunAsGroup != 3000 || got.RunAsNonRoot || !got.Privileged || got.CapAdd[0] != "NET_ADMIN" ||
		!got.ReadOnlyRootFS || *got.AllowPrivilegeEscalation || got.SeccompProfile != "Unconfined" || len(got.SupplementalGroups) != 2 {
		t.Errorf("container overrides: %+v", got)
	}
	if got := effectiveSecurity(nil, nil); !reflect.DeepEqual(got, Security{}) {
		t.Errorf("none: %+v", got)
	}
}

func TestCheckSysctls(t *testing.T) {
	ok := []*ordov1.Sysctl{{Name: "kernel.shmmax", Value: "1"}, {Name: "kernel.msgmax", Value: "2"}, {Name: "kernel.sem", Value: "3 4 5 6"},
		{Name: "fs.mqueue.msg_max", Value: "4"}, {Name: "net/core/somaxconn", Value: "5"}}
	got, err := checkSysctls(ok, false)
	if err != nil || len(got) != 5 || got["net.core.somaxconn"] != "5" || got["kernel.sem"] != "3 4 5 6" {
		t.Fatalf("namespaced: %v %v", got, err)
	}
	for _, c := range []struct {
		name string
		host bool
	}{{"vm.swappiness", false}, {"kernel.pid_max", false}, {"kernel.semx", false}, {"net.core.somaxconn", true}} {
		_, err := checkSysctls([]*ordov1.Sysctl{{Name: c.name, Value: "1"}}, c.host)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Reason != "SysctlForbidden" {
			t.Errorf("%s (host network %v): %v", c.name, c.host, err)
		}
	}
}
