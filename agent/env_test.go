package agent

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"VAR_A":     "A",
		"VAR_B":     "B",
		"VAR_C":     "C",
		"VAR_REF":   "$(VAR_A)",
		"VAR_EMPTY": "",
	}
	m := mappingFor(vars)
	for _, tc := range []struct{ in, want string }{
		{"$(VAR_A)", "A"},
		{"$(VAR_A)-$(VAR_A)", "A-A"},
		{"$(VAR_A)-1", "A-1"},
		{"___$(VAR_B)___", "___B___"},
		{"___$(VAR_C)", "___C"},
		{"$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"},
		{"$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"},
		{"$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"},
		{"f000-$$VAR_A", "f000-$VAR_A"},
		{`foo\$(VAR_C)bar`, `foo\Cbar`},
		{`foo\\$(VAR_C)bar`, `foo\\Cbar`},
		{"$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"},
		{"$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"},
		{"$(VAR_REF)", "$(VAR_A)"}, // values are not expanded again
		{"%%$(VAR_REF)--$(VAR_REF)%%", "%%$(VAR_A)--$(VAR_A)%%"},
		{"foo$(VAR_EMPTY)bar", "foobar"},
		{"foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"},
		{"f00__(VAR_A)__", "f00__(VAR_A)__"},
		{"$?_boo_$!", "$?_boo_$!"},
		{"$VAR_A", "$VAR_A"},
		{"$(VAR_DNE)", "$(VAR_DNE)"},
		{"$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"},
		{"$$$$$$(VAR_A)", "$$$(VAR_A)"},
		{"$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"},
		{"$$$$$$$(VAR_A)", "$$$A"},
		{"$VAR_A)", "$VAR_A)"},
		{"${VAR_A}", "${VAR_A}"},
		{"$(VAR_B)_______$(A", "B_______$(A"},
		{"$(VAR_C)_______$(", "C_______$("},
		{"$(VAR_A)foobarzab$", "Afoobarzab$"},
		{`foo-\$(VAR_A`, `foo-\$(VAR_A`},
		{"--$($($($($--", "--$($($($($--"},
		{"$($($($($--foo$(", "$($($($($--foo$("},
		{"foo0--$($($($(", "foo0--$($($($("},
		{"$(foo$$var)", "$(foo$$var)"},
		{"\n", "\n"},
		{"", ""},
		{"$", "$"},
		{"$()", "$()"},
		{"héllo $(VAR_A) wörld", "héllo A wörld"},
	} {
		if got := expand(tc.in, m); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// fakeConfig is a configSource over fixed objects.
type fakeConfig struct {
	maps    map[string]*ordov1.ConfigMap
	secrets map[string]*ordov1.Secret
}

func (f fakeConfig) configMap(n string) *ordov1.ConfigMap { return f.maps[n] }
func (f fakeConfig) secret(n string) *ordov1.Secret       { return f.secrets[n] }

func testConfig() fakeConfig {
	return fakeConfig{
		maps: map[string]*ordov1.ConfigMap{
			"app": {Metadata: &ordov1.ObjectMeta{Name: "app"}, Data: map[string]string{
				"MODE": "primary", "PORT": "5432", "1BAD": "x", "has space": "y", "dotted.key": "z",
			}, BinaryData: map[string][]byte{"BIN": {1, 2}}},
		},
		secrets: map[string]*ordov1.Secret{
			"db": {Metadata: &ordov1.ObjectMeta{Name: "db"}, Data: map[string][]byte{"password": []byte("s3cret"), "user": []byte("admin")}},
		},
	}
}

func testInfo() podInfo {
	return podInfo{
		pod: &ordov1.Pod{
			Metadata: &ordov1.ObjectMeta{Name: "db-0", Namespace: "team-a", Uid: "u-123",
				Labels:      map[string]string{"app": "db", "tier": "back"},
				Annotations: map[string]string{"note": `say "hi"`}},
			Spec: &ordov1.PodSpec{
				Containers: []*ordov1.Container{
					{Name: "main", Resources: &ordov1.ResourceRequirements{
						Limits: map[string]string{"cpu": "500m", "memory": "64Mi"}, CpuLimitMillis: 500, MemoryLimitBytes: 64 << 20,
						Requests: map[string]string{"cpu": "250m"}, CpuRequestMillis: 250,
					}},
					{Name: "side", Resources: &ordov1.ResourceRequirements{
						Limits: map[string]string{"ephemeral-storage": "1Gi", "hugepages-2Mi": "4Mi"},
					}},
				},
				InitContainers: []*ordov1.Container{{Name: "init", Resources: &ordov1.ResourceRequirements{
					Limits: map[string]string{"cpu": "2"}, CpuLimitMillis: 2000,
				}}},
			},
			NodeName: "node-7",
		},
		nodeName: "node-1",
		podIPs:   []string{"10.244.1.5"},
		hostIPs:  []string{"192.0.2.10"},
		node:     nodeResources{CPUMillis: 4000, MemoryBytes: 8 << 30, EphemeralStorageBytes: 100 << 30},
	}
}

func envVar(name, value string) *ordov1.EnvVar { return &ordov1.EnvVar{Name: name, Value: value} }

func fieldEnv(name, path string) *ordov1.EnvVar {
	return &ordov1.EnvVar{Name: name, ValueFrom: &ordov1.EnvVarSource{FieldRef: &ordov1.ObjectFieldSelector{FieldPath: path}}}
}

func TestFieldValue(t *testing.T) {
	info := testInfo()
	for path, want := range map[string]string{
		"metadata.name":                  "db-0",
		"metadata.namespace":             "team-a",
		"metadata.uid":                   "u-123",
		"metadata.labels['app']":         "db",
		"metadata.labels['absent']":      "",
		"metadata.annotations['note']":   `say "hi"`,
		"metadata.labels":                "app=\"db\"\ntier=\"back\"",
		"metadata.annotations":           `note="say \"hi\""`,
		"spec.nodeName":                  "node-7",
		"spec.serviceAccountName":        "default",
		"status.podIP":                   "10.244.1.5",
		"status.podIPs":                  "10.244.1.5",
		"status.hostIP":                  "192.0.2.10",
		"status.hostIPs":                 "192.0.2.10",
		"metadata.annotations['a.b/c']":  "",
		"metadata.labels['tier']":        "back",
		"metadata.annotations['absent']": "",
	} {
		got, err := info.fieldValue(path)
		if err != nil || got != want {
			t.Errorf("fieldValue(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, bad := range []string{"spec.containers", "metadata.name['x']", "status.phase", "['x']", ""} {
		if v, err := info.fieldValue(bad); err == nil {
			t.Errorf("fieldValue(%q) = %q, want an error", bad, v)
		}
	}
	// Defaults: the namespace, the agent's node name, no address yet.
	info.pod.Metadata.Namespace, info.pod.NodeName, info.podIPs = "", "", nil
	info.pod.Spec.ServiceAccountName = "backup"
	for path, want := range map[string]string{"metadata.namespace": "default", "spec.nodeName": "node-1", "status.podIP": "", "spec.serviceAccountName": "backup"} {
		if got, _ := info.fieldValue(path); got != want {
			t.Errorf("fieldValue(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestResourceValue(t *testing.T) {
	info := testInfo()
	main, side := info.pod.Spec.Containers[0], info.pod.Spec.Containers[1]
	for _, tc := range []struct {
		c                   *ordov1.Container
		container, res, div string
		want                string
	}{
		{main, "", "limits.cpu", "", "1"}, // 500m rounds up to 1 CPU
		{main, "", "limits.cpu", "1m", "500"},
		{main, "", "limits.cpu", "100m", "5"},
		{main, "", "limits.cpu", "300m", "2"},
		{main, "", "requests.cpu", "1m", "250"},
		{main, "", "limits.memory", "", "67108864"},
		{main, "", "limits.memory", "1Mi", "64"},
		{main, "", "limits.memory", "1M", "68"},              // 67.1 rounds up
		{main, "", "requests.memory", "1Mi", "64"},           // unset request: the limit
		{main, "", "limits.ephemeral-storage", "1Gi", "100"}, // unset limit: the node's
		{main, "", "requests.ephemeral-storage", "", "0"},
		{side, "", "limits.cpu", "1m", "4000"},
		{side, "", "limits.memory", "1Gi", "8"},
		{side, "", "requests.cpu", "", "0"},
		{side, "", "limits.ephemeral-storage", "1Mi", "1024"},
		{side, "", "requests.ephemeral-storage", "1Mi", "1024"},
		{side, "", "limits.hugepages-2Mi", "1Mi", "4"},
		{main, "side", "limits.ephemeral-storage", "1Gi", "1"}, // another container
		{nil, "init", "limits.cpu", "", "2"},                   // an init container
		{nil, "main", "requests.cpu", "1m", "250"},
		{main, "", "limits.cpu", "1", "1"},
		{main, "", "limits.memory", "1e3", "67109"},
	} {
		sel := &ordov1.ResourceFieldSelector{ContainerName: tc.container, Resource: tc.res, Divisor: tc.div}
		got, err := info.resourceValue(sel, tc.c)
		if err != nil || got != tc.want {
			t.Errorf("%s %s/%s divisor %q = %q, %v; want %s", tc.c.GetName(), tc.container, tc.res, tc.div, got, err, tc.want)
		}
	}
	for _, sel := range []*ordov1.ResourceFieldSelector{
		{Resource: "limits.gpu"},
		{Resource: "cpu"},
		{Resource: "limits.cpu", Divisor: "0"},
		{Resource: "limits.cpu", Divisor: "lots"},
		{Resource: "limits.cpu", ContainerName: "absent"},
	} {
		if v, err := info.resourceValue(sel, main); err == nil {
			t.Errorf("resourceValue(%v) = %q, want an error", sel, v)
		}
	}
	if _, err := info.resourceValue(&ordov1.ResourceFieldSelector{Resource: "limits.cpu"}, nil); err == nil {
		t.Error("no container: no error")
	}
}

func TestParseQuantity(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "500m": "1/2", "1Ki": "1024", "1.5Gi": "1610612736", "1e3": "1000", "2E": "2000000000000000000",
		"100n": "1/10000000", "1k": "1000", ".5": "1/2", "1e-3": "1/1000", "+2": "2",
	} {
		q, err := parseQuantity(in)
		if err != nil || q.RatString() != want {
			t.Errorf("parseQuantity(%q) = %v, %v; want %s", in, q, err, want)
		}
	}
	for _, in := range []string{"", "Mi", "1mi", "1 Gi", "1e99", "x"} {
		if q, err := parseQuantity(in); err == nil {
			t.Errorf("parseQuantity(%q) = %v, want an error", in, q)
		}
	}
}

func TestResolveEnv(t *testing.T) {
	info, src := testInfo(), testConfig()
	c := &ordov1.Container{
		Name: "main",
		EnvFrom: []*ordov1.EnvFromSource{
			{ConfigMap: "app", Prefix: "APP_"},
			{ConfigMap: "app"},
			{Secret: "db", Prefix: "DB_"},
			{ConfigMap: "absent", Optional: true},
		},
		Env: []*ordov1.EnvVar{
			envVar("GREETING", "hello $(POD_NAME)"), // not yet defined: kept
			fieldEnv("POD_NAME", "metadata.name"),
			envVar("URL", "postgres://$(DB_user)@$(POD_IP):$(PORT)/$$(x)"),
			fieldEnv("POD_IP", "status.podIP"),
			envVar("MODE", "override-$(MODE)"), // the earlier MODE from envFrom
			{Name: "PASS", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "db", Key: "password"}}},
			{Name: "P", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "app", Key: "PORT"}}},
			{Name: "OPT1", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "app", Key: "nokey", Optional: true}}},
			{Name: "OPT2", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "nosecret", Key: "k", Optional: true}}},
			{Name: "CPU", ValueFrom: &ordov1.EnvVarSource{ResourceFieldRef: &ordov1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: "1m"}}},
			{Name: "LITERAL", Value: "v", ValueFrom: &ordov1.EnvVarSource{FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
			envVar("EMPTY", ""),
			envVar("PORT", "6000"), // redefined: keeps its place, later value wins
		},
		Command: []string{"/bin/$(MODE)", "$(GREETING)"},
		Args:    []string{"--port=$(PORT)", "$(NOPE)", "$$(PORT)", "$(LATER)"},
	}
	c.Resources = info.pod.Spec.Containers[0].Resources
	c.Env = append(c.Env, envVar("LATER", "late"))
	got, err := resolveEnv(c, info, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"APP_1BAD=x", "APP_MODE=primary", "APP_PORT=5432", "APP_dotted.key=z", // a prefix can make a key valid
		"MODE=override-primary", "PORT=6000", "dotted.key=z",
		"DB_password=s3cret", "DB_user=admin",
		"GREETING=hello $(POD_NAME)",
		"POD_NAME=db-0",
		"URL=postgres://admin@$(POD_IP):5432/$(x)",
		"POD_IP=10.244.1.5",
		"PASS=s3cret", "P=5432", "CPU=500", "LITERAL=v", "EMPTY=",
		"LATER=late",
	}
	if !reflect.DeepEqual(got.Env, want) {
		t.Errorf("env =\n%s\nwant\n%s", strings.Join(got.Env, "\n"), strings.Join(want, "\n"))
	}
	if w := []string{"/bin/override-primary", "hello $(POD_NAME)"}; !reflect.DeepEqual(got.Command, w) {
		t.Errorf("command = %q, want %q", got.Command, w)
	}
	if w := []string{"--port=6000", "$(NOPE)", "$(PORT)", "late"}; !reflect.DeepEqual(got.Args, w) {
		t.Errorf("args = %q, want %q", got.Args, w)
	}
	if len(got.Warnings) != 2 ||
		got.Warnings[0] != "Keys [APP_has space] from the EnvFrom configMap team-a/app were skipped since they are considered invalid environment variable names." ||
		got.Warnings[1] != "Keys [1BAD, has space] from the EnvFrom configMap team-a/app were skipped since they are considered invalid environment variable names." {
		t.Errorf("warnings = %q", got.Warnings)
	}
}

func TestResolveEnvWithoutCommandKeepsImageDefaults(t *testing.T) {
	got, err := resolveEnv(&ordov1.Container{Name: "main"}, testInfo(), testConfig())
	if err != nil || got.Command != nil || got.Args != nil || len(got.Env) != 0 {
		t.Errorf("resolveEnv of a bare container = %+v, %v", got, err)
	}
}

func TestResolveEnvMissingData(t *testing.T) {
	info, src := testInfo(), testConfig()
	for _, tc := range []struct {
		c    *ordov1.Container
		want string
	}{
		{&ordov1.Container{Env: []*ordov1.EnvVar{{Name: "X", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "nocm", Key: "k"}}}}},
			`configmap "nocm" not found`},
		{&ordov1.Container{Env: []*ordov1.EnvVar{{Name: "X", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "app", Key: "nokey"}}}}},
			"couldn't find key nokey in ConfigMap team-a/app"},
		{&ordov1.Container{Env: []*ordov1.EnvVar{{Name: "X", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "app", Key: "BIN"}}}}},
			"couldn't find key BIN in ConfigMap team-a/app"}, // binaryData is not for env
		{&ordov1.Container{Env: []*ordov1.EnvVar{{Name: "X", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "nosec", Key: "k"}}}}},
			`secret "nosec" not found`},
		{&ordov1.Container{Env: []*ordov1.EnvVar{{Name: "X", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "db", Key: "nokey"}}}}},
			"couldn't find key nokey in Secret team-a/db"},
		{&ordov1.Container{EnvFrom: []*ordov1.EnvFromSource{{ConfigMap: "nocm"}}}, `configmap "nocm" not found`},
		{&ordov1.Container{EnvFrom: []*ordov1.EnvFromSource{{Secret: "nosec"}}}, `secret "nosec" not found`},
		{&ordov1.Container{Env: []*ordov1.EnvVar{fieldEnv("X", "spec.containers")}}, "env X: unsupported fieldPath: spec.containers"},
	} {
		_, err := resolveEnv(tc.c, info, src)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error = %v, want %q", err, tc.want)
		}
		if err != nil && strings.Contains(tc.want, "not found") && !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%v is not ErrNotFound", err)
		}
	}
	// Optional: the variable (or the source) is left out, earlier values stay.
	c := &ordov1.Container{
		EnvFrom: []*ordov1.EnvFromSource{{Secret: "nosec", Optional: true}, {ConfigMap: "app", Prefix: "A_"}},
		Env: []*ordov1.EnvVar{
			{Name: "A_MODE", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "nocm", Key: "k", Optional: true}}},
			{Name: "Y", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "db", Key: "nokey", Optional: true}}},
		},
	}
	got, err := resolveEnv(c, info, src)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Env, " ") != "A_1BAD=x A_MODE=primary A_PORT=5432 A_dotted.key=z" {
		t.Errorf("env with optional sources missing = %q", got.Env)
	}
}

func TestValidEnvVarName(t *testing.T) {
	for n, ok := range map[string]bool{"A": true, "a_b": true, "a.b": true, "a-b": true, "_x": true, ".x": true, "-x": true,
		"1A": false, "": false, "a b": false, "a=b": false, "é": false} {
		if validEnvVarName(n) != ok {
			t.Errorf("validEnvVarName(%q) = %v", n, !ok)
		}
	}
}
