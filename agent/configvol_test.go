package agent

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

func i32(n int32) *int32 { return &n }

// files prints a payload as "path mode data" lines, sorted.
func files(p map[string]volumes.FileProjection) map[string]string {
	out := map[string]string{}
	for k, f := range p {
		out[k] = f.Mode.String() + " " + string(f.Data)
	}
	return out
}

func TestConfigVolumePayload(t *testing.T) {
	info, src := testInfo(), testConfig()
	for _, tc := range []struct {
		name string
		v    *ordov1.ResolvedVolume
		want map[string]string
	}{
		{"configMap, every key", &ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app"}}, map[string]string{
			"MODE": "-rw-r--r-- primary", "PORT": "-rw-r--r-- 5432", "1BAD": "-rw-r--r-- x", "has space": "-rw-r--r-- y",
			"dotted.key": "-rw-r--r-- z", "BIN": "-rw-r--r-- \x01\x02",
		}},
		{"configMap, items and modes", &ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app", DefaultMode: i32(0o440),
			Items: []*ordov1.KeyToPath{{Key: "MODE", Path: "conf/mode"}, {Key: "BIN", Path: "bin", Mode: i32(0o755)}}}}, map[string]string{
			"conf/mode": "-r--r----- primary", "bin": "-rwxr-xr-x \x01\x02",
		}},
		{"configMap, optional and missing", &ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "absent", Optional: true}}, map[string]string{}},
		{"configMap, optional, item key missing", &ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app", Optional: true,
			Items: []*ordov1.KeyToPath{{Key: "nokey", Path: "x"}, {Key: "PORT", Path: "port"}}}}, map[string]string{"port": "-rw-r--r-- 5432"}},
		{"secret", &ordov1.ResolvedVolume{Secret: &ordov1.SecretVolumeSource{SecretName: "db", DefaultMode: i32(0o400)}}, map[string]string{
			"password": "-r-------- s3cret", "user": "-r-------- admin",
		}},
		{"secret, items", &ordov1.ResolvedVolume{Secret: &ordov1.SecretVolumeSource{SecretName: "db",
			Items: []*ordov1.KeyToPath{{Key: "password", Path: "pw"}}}}, map[string]string{"pw": "-rw-r--r-- s3cret"}},
		{"downwardAPI", &ordov1.ResolvedVolume{DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "./name", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.name"}, Mode: i32(0o600)},
			{Path: "mem", ResourceFieldRef: &ordov1.ResourceFieldSelector{ContainerName: "main", Resource: "limits.memory", Divisor: "1Mi"}},
		}}}, map[string]string{
			"labels": "-rw-r--r-- app=\"db\"\ntier=\"back\"", "name": "-rw------- db-0", "mem": "-rw-r--r-- 64",
		}},
		{"projected", &ordov1.ResolvedVolume{Projected: &ordov1.ProjectedVolumeSource{DefaultMode: i32(0o640), Sources: []*ordov1.VolumeProjection{
			{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app", Items: []*ordov1.KeyToPath{{Key: "PORT", Path: "cfg/port"}}, DefaultMode: i32(0o777)}},
			{Secret: &ordov1.SecretVolumeSource{SecretName: "db", Items: []*ordov1.KeyToPath{{Key: "user", Path: "cfg/user", Mode: i32(0o400)}}}},
			{Secret: &ordov1.SecretVolumeSource{SecretName: "absent", Optional: true}},
			{DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
				{Path: "ns", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
			}}},
		}}}, map[string]string{
			"cfg/port": "-rw-r----- 5432", "cfg/user": "-r-------- admin", "ns": "-rw-r----- team-a",
		}},
	} {
		got, err := configVolumePayload(tc.v, info, src)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if g := files(got); !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%s: payload = %q, want %q", tc.name, g, tc.want)
		}
	}
}

func TestConfigVolumePayloadMissing(t *testing.T) {
	info, src := testInfo(), testConfig()
	for _, tc := range []struct {
		v        *ordov1.ResolvedVolume
		want     string
		notFound bool
	}{
		{&ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "absent"}}, `configmap "absent" not found`, true},
		{&ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app", Items: []*ordov1.KeyToPath{{Key: "nokey", Path: "x"}}}},
			"configmap references non-existent config key: nokey", true},
		{&ordov1.ResolvedVolume{Secret: &ordov1.SecretVolumeSource{SecretName: "absent"}}, `secret "absent" not found`, true},
		{&ordov1.ResolvedVolume{Secret: &ordov1.SecretVolumeSource{SecretName: "db", Items: []*ordov1.KeyToPath{{Key: "nokey", Path: "x"}}}},
			"references non-existent secret key: nokey", true},
		{&ordov1.ResolvedVolume{Projected: &ordov1.ProjectedVolumeSource{Sources: []*ordov1.VolumeProjection{
			{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "absent"}}}}}, `configmap "absent" not found`, true},
		{&ordov1.ResolvedVolume{DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
			{Path: "x", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "spec.nope"}}}}}, "downwardAPI item x: unsupported fieldPath: spec.nope", false},
		{&ordov1.ResolvedVolume{DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
			{Path: "x", ResourceFieldRef: &ordov1.ResourceFieldSelector{Resource: "limits.cpu"}}}}}, "downwardAPI item x: resourceFieldRef limits.cpu: no container named", false},
		{&ordov1.ResolvedVolume{Name: "v", EmptyDir: &ordov1.EmptyDirVolumeSource{}}, "volume v: not a configMap", false},
	} {
		_, err := configVolumePayload(tc.v, info, src)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error = %v, want %q", err, tc.want)
		}
		if err != nil && tc.notFound != errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%v: ErrNotFound = %v, want %v", err, !tc.notFound, tc.notFound)
		}
	}
}

func TestIsConfigVolume(t *testing.T) {
	cm := &ordov1.ResolvedVolume{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "a"}}
	dapi := &ordov1.ResolvedVolume{DownwardApi: &ordov1.DownwardAPIVolumeSource{}}
	projDapi := &ordov1.ResolvedVolume{Projected: &ordov1.ProjectedVolumeSource{Sources: []*ordov1.VolumeProjection{{DownwardApi: &ordov1.DownwardAPIVolumeSource{}}}}}
	projSecret := &ordov1.ResolvedVolume{Projected: &ordov1.ProjectedVolumeSource{Sources: []*ordov1.VolumeProjection{{Secret: &ordov1.SecretVolumeSource{}}}}}
	empty := &ordov1.ResolvedVolume{EmptyDir: &ordov1.EmptyDirVolumeSource{}}
	for _, tc := range []struct {
		v             *ordov1.ResolvedVolume
		config, names bool
	}{{cm, true, true}, {dapi, true, false}, {projDapi, true, false}, {projSecret, true, true}, {empty, false, false}} {
		if isConfigVolume(tc.v) != tc.config || namesConfigData(tc.v) != tc.names {
			t.Errorf("%v: isConfigVolume %v namesConfigData %v", tc.v, isConfigVolume(tc.v), namesConfigData(tc.v))
		}
	}
}
