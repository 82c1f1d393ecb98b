package cli

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		argv  []string
		pos   []string
		vals  map[string][]string
		bools map[string]bool
	}{
		{[]string{"get", "pods", "-o", "json"}, []string{"get", "pods"}, map[string][]string{"output": {"json"}}, nil},
		{[]string{"get", "-ojson", "pods"}, []string{"get", "pods"}, map[string][]string{"output": {"json"}}, nil},
		{[]string{"get", "pods", "--output=yaml", "-lapp=web"}, []string{"get", "pods"}, map[string][]string{"output": {"yaml"}, "selector": {"app=web"}}, nil},
		{[]string{"--server", "unix:///x.sock", "get", "po", "-w"}, []string{"get", "po"}, map[string][]string{"server": {"unix:///x.sock"}}, map[string]bool{"watch": true}},
		{[]string{"apply", "-f", "a.yaml", "-f", "-", "--dry-run"}, []string{"apply"}, map[string][]string{"filename": {"a.yaml", "-"}}, map[string]bool{"dry-run": true}},
		{[]string{"scale", "sts/web", "--replicas=3"}, []string{"scale", "sts/web"}, map[string][]string{"replicas": {"3"}}, nil},
		{[]string{"scale", "statefulset", "web", "--replicas", "0"}, []string{"scale", "statefulset", "web"}, map[string][]string{"replicas": {"0"}}, nil},
		{[]string{"get", "pods", "--watch=false", "-n", "team-a"}, []string{"get", "pods"}, map[string][]string{"namespace": {"team-a"}}, map[string]bool{"watch": false}},
		{[]string{"delete", "--", "-weird"}, []string{"delete", "-weird"}, nil, nil},
		{[]string{"apply", "-f-"}, []string{"apply"}, map[string][]string{"filename": {"-"}}, nil},
	}
	for _, tc := range tests {
		a, err := parseArgs(tc.argv)
		if err != nil {
			t.Errorf("%q: %v", tc.argv, err)
			continue
		}
		if tc.vals == nil {
			tc.vals = map[string][]string{}
		}
		if tc.bools == nil {
			tc.bools = map[string]bool{}
		}
		if !reflect.DeepEqual(a.pos, tc.pos) || !reflect.DeepEqual(a.vals, tc.vals) || !reflect.DeepEqual(a.bools, tc.bools) {
			t.Errorf("%q: got pos %q vals %v bools %v, want %q %v %v", tc.argv, a.pos, a.vals, a.bools, tc.pos, tc.vals, tc.bools)
		}
	}
	for _, bad := range [][]string{{"get", "--bogus"}, {"get", "pods", "-o"}, {"get", "-x"}, {"get", "-w=maybe"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseSelector(t *testing.T) {
	got, err := parseSelector("app=web, tier==db")
	if err != nil || !reflect.DeepEqual(got, map[string]string{"app": "web", "tier": "db"}) {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"app", "app!=web", "=x"} {
		if _, err := parseSelector(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFormatAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-5 * time.Second, "<invalid>"},
		{-500 * time.Millisecond, "0s"},
		{0, "0s"},
		{5 * time.Second, "5s"},
		{119 * time.Second, "119s"},
		{3 * time.Minute, "3m"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{45 * time.Minute, "45m"},
		{2 * time.Hour, "120m"},
		{3 * time.Hour, "3h"},
		{5*time.Hour + 10*time.Minute, "5h10m"},
		{20 * time.Hour, "20h"},
		{4 * 24 * time.Hour, "4d"},
		{3*24*time.Hour + 4*time.Hour, "3d4h"},
		{12 * 24 * time.Hour, "12d"},
		{(2*365 + 10) * 24 * time.Hour, "2y10d"},
		{9 * 365 * 24 * time.Hour, "9y"},
	}
	for _, tc := range tests {
		if got := formatAge(tc.d); got != tc.want {
			t.Errorf("formatAge(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(testNow.Add(-d)) }

func pod(name, node string, phase ordov1.PodPhase, ready bool, created time.Duration) *ordov1.Pod {
	return &ordov1.Pod{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", CreationTime: ago(created), Labels: map[string]string{"app": "nginx"}},
		Spec:     &ordov1.PodSpec{Containers: []*ordov1.Container{{Name: "nginx", Image: "ordo.local/busybox:latest"}}},
		NodeName: node, SetName: "web", Revision: "web-5d8f",
		Status: &ordov1.PodStatus{Phase: phase, Ready: ready},
	}
}

func samplePods() []*ordov1.Pod {
	crash := pod("web-2", "node-2", ordov1.PodPhase_POD_PHASE_RUNNING, false, 3*time.Minute)
	crash.Status.Containers = []*ordov1.ContainerStatus{{Name: "nginx", Reason: "CrashLoopBackOff", RestartCount: 4}}
	crash.Status.Restarts = 4
	term := pod("web-1", "node-2", ordov1.PodPhase_POD_PHASE_RUNNING, true, 5*time.Minute)
	term.Metadata.DeletionTime = ago(time.Second)
	creating := pod("web-3", "node-1", ordov1.PodPhase_POD_PHASE_PENDING, false, 2*time.Second)
	creating.Status.Reason = "ContainerCreating"
	unsched := pod("web-4", "", ordov1.PodPhase_POD_PHASE_PENDING, false, time.Second)
	lost := pod("web-10", "node-3", ordov1.PodPhase_POD_PHASE_UNKNOWN, false, 2*time.Hour)
	return []*ordov1.Pod{
		pod("web-0", "node-1", ordov1.PodPhase_POD_PHASE_RUNNING, true, 5*time.Minute),
		term, crash, creating, unsched, lost,
	}
}

func TestPodTable(t *testing.T) {
	var items []item
	for _, p := range samplePods() {
		items = append(items, item{kindPod, p, p.Metadata})
	}
	var buf bytes.Buffer
	a := &app{stdout: &buf, now: func() time.Time { return testNow }}
	if err := a.printItems(kindPod, "", items, false, &table{}, "default"); err != nil {
		t.Fatal(err)
	}
	want := `NAME      READY     STATUS              RESTARTS   AGE       NODE
web-0     1/1       Running             0          5m        node-1
web-1     1/1       Terminating         0          5m        node-2
web-2     0/1       CrashLoopBackOff    4          3m        node-2
web-3     0/1       ContainerCreating   0          2s        node-1
web-4     0/1       Pending             0          1s        <none>
web-10    0/1       Unknown             0          120m      node-3
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestOtherTables(t *testing.T) {
	now := func() time.Time { return testNow }
	sts := &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: "web", Namespace: "default", CreationTime: ago(4 * 24 * time.Hour)},
		Spec: &ordov1.StatefulSetSpec{Replicas: 3, Template: &ordov1.PodTemplate{Spec: &ordov1.PodSpec{
			Containers: []*ordov1.Container{{Name: "nginx", Image: "ordo.local/busybox:latest"}}}}},
		Status: &ordov1.StatefulSetStatus{ReadyReplicas: 2},
	}
	nodes := []*ordov1.NodeInfo{
		{Metadata: &ordov1.ObjectMeta{Name: "node-1", CreationTime: ago(time.Hour)}, Ready: true, Pods: 2, Addresses: []string{"10.0.0.1", "fd00::1"}},
		{Metadata: &ordov1.ObjectMeta{Name: "node-2", CreationTime: ago(30 * time.Second)}, Pods: 0},
	}
	svcs := []*ordov1.Service{
		{Metadata: &ordov1.ObjectMeta{Name: "nginx", CreationTime: ago(time.Minute)}, Spec: &ordov1.ServiceSpec{ClusterIp: "None",
			Ports: []*ordov1.ServicePort{{Port: 80, Protocol: "TCP"}}}},
		{Metadata: &ordov1.ObjectMeta{Name: "api", CreationTime: ago(time.Minute)}, Spec: &ordov1.ServiceSpec{ClusterIp: "10.96.0.10",
			Ports: []*ordov1.ServicePort{{Port: 8080, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}}, Selector: map[string]string{"app": "api"}}},
	}
	tests := []struct {
		kind, format string
		items        []item
		want         string
	}{
		{kindStatefulSet, "", []item{{kindStatefulSet, sts, sts.Metadata}},
			"NAME      READY     AGE\nweb       2/3       4d\n"},
		{kindStatefulSet, "wide", []item{{kindStatefulSet, sts, sts.Metadata}},
			"NAME      READY     AGE       CONTAINERS   IMAGES\nweb       2/3       4d        nginx        ordo.local/busybox:latest\n"},
		{kindNode, "", []item{{kindNode, nodes[0], nodes[0].Metadata}, {kindNode, nodes[1], nodes[1].Metadata}},
			"NAME      STATUS     PODS      AGE       ADDRESSES\nnode-1    Ready      2         60m       10.0.0.1,fd00::1\nnode-2    NotReady   0         30s       <none>\n"},
		{kindService, "", []item{{kindService, svcs[0], svcs[0].Metadata}, {kindService, svcs[1], svcs[1].Metadata}},
			"NAME      TYPE        CLUSTER-IP   PORT(S)           AGE\nnginx     Headless    None         80/TCP            60s\napi       ClusterIP   10.96.0.10   8080/TCP,53/UDP   60s\n"},
		{kindService, "name", []item{{kindService, svcs[0], svcs[0].Metadata}}, "service/nginx\n"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		a := &app{stdout: &buf, now: now}
		if err := a.printItems(tc.kind, tc.format, tc.items, false, &table{}, "default"); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("%s -o %q: got\n%s\nwant\n%s", tc.kind, tc.format, got, tc.want)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, argv := range [][]string{
		{},
		{"frobnicate"},
		{"get"},
		{"get", "deployments"},
		{"get", "pods", "-o", "xml"},
		{"scale", "sts/web"},
		{"scale", "pod/web-0", "--replicas=1"},
		{"apply"},
		{"apply", "-f", "x.yaml", "--replicas=3"},
		{"delete", "sts"},
		{"describe", "pod"},
	} {
		var out, errb bytes.Buffer
		code := RunIO(context.Background(), argv, strings.NewReader(""), &out, &errb)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", argv, code, errb.String())
		}
		if !strings.HasPrefix(errb.String(), "error: ") {
			t.Errorf("%q: stderr %q", argv, errb.String())
		}
	}
}

func TestHelp(t *testing.T) {
	for _, argv := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "get"}, {"get", "-h"}} {
		var out, errb bytes.Buffer
		if code := RunIO(context.Background(), argv, nil, &out, &errb); code != 0 {
			t.Errorf("%q: exit %d", argv, code)
		}
		if !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%q: no usage text: %q", argv, out.String())
		}
	}
	var out bytes.Buffer
	RunIO(context.Background(), []string{"get", "--help"}, nil, &out, &out)
	if !strings.Contains(out.String(), "--watch") {
		t.Errorf("get help lacks --watch: %s", out.String())
	}
}

func TestTarget(t *testing.T) {
	for in, want := range map[string]string{
		"unix:///run/ordo/ordo.sock": "unix:///run/ordo/ordo.sock",
		"/tmp/o.sock":                "unix:///tmp/o.sock",
		"127.0.0.1:7070":             "passthrough:///127.0.0.1:7070",
		"tcp://10.0.0.1:7070":        "passthrough:///10.0.0.1:7070",
		"localhost:7070":             "passthrough:///localhost:7070",
	} {
		if got := target(in); got != want {
			t.Errorf("target(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalValidationStoresNothing(t *testing.T) {
	// The scheduler address is unreachable: a bad manifest must fail before any call.
	var out, errb bytes.Buffer
	code := RunIO(context.Background(), []string{"--server", "unix:///nonexistent/ordo.sock", "apply", "-f", "-"},
		strings.NewReader("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec: {replicas: -1}\n"), &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	// Every problem, each on its own line naming the file and the object.
	want := "error: <stdin>: StatefulSet default/web: spec.replicas: must be >= 0\n" +
		"error: <stdin>: StatefulSet default/web: spec.selector: required\n" +
		"error: <stdin>: StatefulSet default/web: spec.template.spec.containers: must have at least one container\n"
	if errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}
}

func TestPodStatusShowsInitProgress(t *testing.T) {
	p := &ordov1.Pod{Metadata: &ordov1.ObjectMeta{Name: "mysql-0"}, Status: &ordov1.PodStatus{
		Phase: ordov1.PodPhase_POD_PHASE_PENDING, Reason: "Init:1/2",
		Containers: []*ordov1.ContainerStatus{{Name: "mysql", Reason: "PodInitializing"}},
	}}
	if got := podStatus(p); got != "Init:1/2" {
		t.Fatalf("podStatus = %q", got)
	}
}
