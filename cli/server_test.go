package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// controlDouble is a small in-memory stand-in for the scheduler's Control
// service: enough state for the CLI's requests and their answers.
type controlDouble struct {
	ordov1.UnimplementedControlServer

	mu       sync.Mutex
	sets     map[string]*ordov1.StatefulSet
	services map[string]*ordov1.Service
	pods     []*ordov1.Pod
	nodes    []*ordov1.NodeInfo
	events   []*ordov1.Event // sent by Watch, which then ends the stream
	lastList *ordov1.ListRequest
	deleted  []string
}

var _ ordov1.ControlServer = (*controlDouble)(nil)

func (s *controlDouble) Apply(_ context.Context, req *ordov1.ApplyRequest) (*ordov1.ApplyResponse, error) {
	objs := req.GetObjects()
	if len(req.GetManifest()) > 0 {
		decoded, err := manifest.Decode(req.GetManifest())
		if err != nil {
			return nil, errdefs.ToGRPC(err)
		}
		objs = append(objs, decoded.Objects...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &ordov1.ApplyResponse{}
	for _, o := range objs {
		kind, ns, name := manifest.Ref(o)
		action := "created"
		switch {
		case o.GetStatefulSet() != nil:
			in := o.GetStatefulSet()
			if cur, ok := s.sets[name]; ok {
				action = "configured"
				if proto.Equal(cur.GetSpec(), in.GetSpec()) {
					action = "unchanged"
				}
			}
			if !req.GetDryRun() {
				in.Metadata.CreationTime = ago(time.Minute)
				s.sets[name] = in
			}
		case o.GetService() != nil:
			if _, ok := s.services[name]; ok {
				action = "unchanged"
			}
			if !req.GetDryRun() {
				s.services[name] = o.GetService()
			}
		}
		resp.Results = append(resp.Results, &ordov1.ApplyResult{Kind: kind, Namespace: ns, Name: name, Action: action})
	}
	return resp, nil
}

func (s *controlDouble) Get(_ context.Context, req *ordov1.GetRequest) (*ordov1.GetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := req.GetRef().GetName()
	switch req.GetRef().GetKind() {
	case "StatefulSet":
		if set, ok := s.sets[name]; ok {
			return &ordov1.GetResponse{
				Object: &ordov1.Object{Kind: &ordov1.Object_StatefulSet{StatefulSet: set}},
				Events: []*ordov1.Event{{Time: ago(30 * time.Second), Reason: "Created", Message: "StatefulSet web created with 3 replicas"}},
			}, nil
		}
	case "Pod":
		for _, p := range s.pods {
			if p.GetMetadata().GetName() == name {
				return &ordov1.GetResponse{Pod: p}, nil
			}
		}
	case "Node":
		for _, n := range s.nodes {
			if n.GetMetadata().GetName() == name {
				return &ordov1.GetResponse{Node: n}, nil
			}
		}
	}
	return nil, errdefs.ToGRPC(errdefs.NotFound(strings.ToLower(req.GetRef().GetKind()), "default/"+name))
}

func (s *controlDouble) List(_ context.Context, req *ordov1.ListRequest) (*ordov1.ListResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastList = req
	resp := &ordov1.ListResponse{}
	switch req.GetKind() {
	case "StatefulSet":
		for _, set := range s.sets {
			resp.StatefulSets = append(resp.StatefulSets, set)
		}
	case "Service":
		for _, svc := range s.services {
			resp.Services = append(resp.Services, svc)
		}
	case "Pod":
		resp.Pods = s.pods
	case "Node":
		resp.Nodes = s.nodes
	default:
		return nil, errdefs.ToGRPC(errdefs.Invalid("kind", "unknown kind %q", req.GetKind()))
	}
	return resp, nil
}

func (s *controlDouble) Delete(_ context.Context, req *ordov1.DeleteRequest) (*ordov1.DeleteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := req.GetRef()
	switch ref.GetKind() {
	case "StatefulSet":
		if _, ok := s.sets[ref.GetName()]; !ok {
			return nil, errdefs.ToGRPC(errdefs.NotFound("statefulset", "default/"+ref.GetName()))
		}
		delete(s.sets, ref.GetName())
	case "Service":
		delete(s.services, ref.GetName())
	}
	s.deleted = append(s.deleted, ref.GetKind()+"/"+ref.GetNamespace()+"/"+ref.GetName())
	return &ordov1.DeleteResponse{}, nil
}

func (s *controlDouble) Scale(_ context.Context, req *ordov1.ScaleRequest) (*ordov1.ScaleResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.GetReplicas() < 0 {
		return nil, errdefs.ToGRPC(errdefs.Invalid("spec.replicas", "must be >= 0"))
	}
	set, ok := s.sets[req.GetName()]
	if !ok {
		return nil, errdefs.ToGRPC(errdefs.NotFound("statefulset", "default/"+req.GetName()))
	}
	set.Spec.Replicas = req.GetReplicas()
	return &ordov1.ScaleResponse{StatefulSet: set}, nil
}

func (s *controlDouble) Watch(req *ordov1.WatchRequest, stream ordov1.Control_WatchServer) error {
	s.mu.Lock()
	evs := s.events
	s.mu.Unlock()
	for _, ev := range evs {
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	return nil
}

// startServer serves a controlDouble on a unix socket and returns its address.
func startServer(t *testing.T) (*controlDouble, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ordo.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	d := &controlDouble{sets: map[string]*ordov1.StatefulSet{}, services: map[string]*ordov1.Service{}}
	ordov1.RegisterControlServer(srv, d)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return d, "unix://" + sock
}

// run runs the CLI against addr (through $ORDO_ADDR) at the fixed test time.
func run(t *testing.T, addr, stdin string, argv ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		now: func() time.Time { return testNow },
		getenv: func(k string) string {
			if k == "ORDO_ADDR" {
				return addr
			}
			return ""
		}}
	code = a.run(context.Background(), argv)
	return code, out.String(), errb.String()
}

const webYAML = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{port: 80, name: web}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: nginx}
  template:
    metadata:
      labels: {app: nginx}
    spec:
      containers:
      - name: nginx
        image: ordo.local/busybox:latest
        ports: [{containerPort: 80, name: web}]
        readinessProbe:
          httpGet: {path: /, port: web}
          periodSeconds: 0.2
`

func TestApplyGetScaleDelete(t *testing.T) {
	d, addr := startServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(file, []byte(webYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, addr, "", "apply", "-f", file)
	if code != 0 || out != "service/nginx created\nstatefulset/web created\n" {
		t.Fatalf("apply: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// Same manifest from stdin: unchanged.
	code, out, _ = run(t, addr, webYAML, "apply", "-f", "-")
	if code != 0 || out != "service/nginx unchanged\nstatefulset/web unchanged\n" {
		t.Fatalf("apply again: exit %d, %q", code, out)
	}
	// A directory applies its manifests.
	code, out, _ = run(t, addr, "", "apply", "-f", dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "statefulset/web unchanged (dry run)") {
		t.Fatalf("apply dir: exit %d, %q", code, out)
	}

	d.mu.Lock()
	d.sets["web"].Status = &ordov1.StatefulSetStatus{ReadyReplicas: 2, Replicas: 3}
	d.pods = samplePods()[:3]
	d.mu.Unlock()

	code, out, _ = run(t, addr, "", "get", "sts")
	if want := "NAME      READY     AGE\nweb       2/3       60s\n"; code != 0 || out != want {
		t.Errorf("get sts: exit %d\n%s\nwant\n%s", code, out, want)
	}
	code, out, _ = run(t, addr, "", "get", "statefulset", "web")
	if code != 0 || !strings.Contains(out, "web       2/3") {
		t.Errorf("get statefulset web: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, addr, "", "get", "pods", "-l", "app=nginx")
	if code != 0 || !strings.Contains(out, "web-0     1/1       Running") || !strings.Contains(out, "CrashLoopBackOff") {
		t.Errorf("get pods: exit %d\n%s", code, out)
	}
	if sel := d.lastList.GetLabelSelector(); sel["app"] != "nginx" || d.lastList.GetNamespace() != "default" {
		t.Errorf("list request %v", d.lastList)
	}
	code, out, _ = run(t, addr, "", "get", "pods", "-A")
	if code != 0 || !strings.HasPrefix(out, "NAMESPACE   NAME      READY") || !strings.Contains(out, "\ndefault     web-0     1/1") || d.lastList.GetNamespace() != "" {
		t.Errorf("get pods -A: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, addr, "", "get", "pods", "-l", "app=other")
	if code != 0 || out != "" {
		t.Errorf("get pods -l app=other: %q", out)
	}
	code, out, _ = run(t, addr, "", "get", "svc")
	if code != 0 || !strings.Contains(out, "nginx     Headless   None         80/TCP") {
		t.Errorf("get svc: exit %d\n%s", code, out)
	}

	// -o json: a kubectl List of Kubernetes-shaped objects.
	code, out, _ = run(t, addr, "", "get", "pods", "-o", "json")
	if code != 0 {
		t.Fatalf("get pods -o json: exit %d", code)
	}
	var list struct {
		APIVersion, Kind string
		Items            []struct {
			APIVersion, Kind string
			Metadata         struct {
				Name              string
				CreationTimestamp string
				Labels            map[string]string
				Annotations       map[string]string
			}
			Spec   struct{ NodeName string }
			Status struct {
				Phase      string
				Conditions []struct{ Type, Status string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if list.Kind != "List" || list.APIVersion != "v1" || len(list.Items) != 3 {
		t.Fatalf("list = %+v", list)
	}
	p0 := list.Items[0]
	ready := false
	for _, c := range p0.Status.Conditions {
		ready = ready || (c.Type == "Ready" && c.Status == "True")
	}
	if p0.Kind != "Pod" || p0.APIVersion != "v1" || p0.Metadata.Name != "web-0" || p0.Spec.NodeName != "node-1" ||
		p0.Status.Phase != "Running" || !ready || p0.Metadata.CreationTimestamp == "" || p0.Metadata.Annotations["ordo.dev/epoch"] == "" {
		t.Errorf("items[0] = %+v", p0)
	}
	// -o yaml of one object: the object itself.
	code, out, _ = run(t, addr, "", "get", "sts", "web", "-o", "yaml")
	var set map[string]any
	if err := yaml.Unmarshal([]byte(out), &set); code != 0 || err != nil {
		t.Fatalf("get sts web -o yaml: %d %v\n%s", code, err, out)
	}
	if spec, _ := set["spec"].(map[string]any); spec["serviceName"] != "nginx" || set["kind"] != "StatefulSet" || set["apiVersion"] != "apps/v1" {
		t.Errorf("yaml = %v", set)
	}
	code, out, _ = run(t, addr, "", "get", "pods", "-o", "name")
	if code != 0 || out != "pod/web-0\npod/web-1\npod/web-2\n" {
		t.Errorf("-o name: %q", out)
	}

	code, out, errOut = run(t, addr, "", "scale", "sts/web", "--replicas=5")
	if code != 0 || out != "statefulset/web scaled\n" || d.sets["web"].GetSpec().GetReplicas() != 5 {
		t.Errorf("scale: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, addr, "", "scale", "statefulset", "web", "--replicas", "1")
	if code != 0 || out != "statefulset/web scaled\n" || d.sets["web"].GetSpec().GetReplicas() != 1 {
		t.Errorf("scale statefulset web: exit %d %q", code, out)
	}
	// The server's message, which names the field, is what the user sees.
	code, _, errOut = run(t, addr, "", "scale", "sts/web", "--replicas=-1")
	if code != 1 || errOut != "error: spec.replicas: must be >= 0\n" {
		t.Errorf("scale -1: exit %d %q", code, errOut)
	}
	code, _, errOut = run(t, addr, "", "get", "sts", "nope")
	if code != 1 || errOut != "error: statefulset \"default/nope\" not found\n" {
		t.Errorf("get missing: exit %d %q", code, errOut)
	}

	code, out, _ = run(t, addr, "", "delete", "pod", "web-1")
	if code != 0 || out != "pod \"web-1\" deleted\n" {
		t.Errorf("delete pod: exit %d %q", code, out)
	}
	code, out, errOut = run(t, addr, "", "delete", "-f", file)
	if code != 0 || out != "statefulset \"web\" deleted\nservice \"nginx\" deleted\n" {
		t.Errorf("delete -f: exit %d %q %q", code, out, errOut)
	}
	if want := []string{"Pod/default/web-1", "StatefulSet/default/web", "Service/default/nginx"}; strings.Join(d.deleted, " ") != strings.Join(want, " ") {
		t.Errorf("deleted %v, want %v", d.deleted, want)
	}
	code, _, errOut = run(t, addr, "", "delete", "sts", "web")
	if code != 1 || errOut != "error: statefulset \"default/web\" not found\n" {
		t.Errorf("delete missing: exit %d %q", code, errOut)
	}
}

func TestApplyRejectedByServer(t *testing.T) {
	_, addr := startServer(t)
	bad := strings.Replace(webYAML, "replicas: 3", "replica: 3", 1)
	code, out, errOut := run(t, addr, bad, "apply", "-f", "-")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if want := `error: <stdin>: StatefulSet default/web: spec.replica: unknown field "replica" (did you mean "replicas"?)` + "\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestGetPodsWatch(t *testing.T) {
	d, addr := startServer(t)
	pods := samplePods()
	d.pods = pods[:1]
	creating := pods[3]
	running := proto.Clone(creating).(*ordov1.Pod)
	running.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_RUNNING, Ready: true}
	other := pod("db-0", "node-1", ordov1.PodPhase_POD_PHASE_PENDING, false, time.Second)
	other.Metadata.Labels = map[string]string{"app": "db"}
	d.events = []*ordov1.Event{
		{Type: ordov1.EventType_EVENT_TYPE_ADDED, Kind: "Pod", Pod: creating},
		{Kind: "Pod", Pod: &ordov1.Pod{Metadata: &ordov1.ObjectMeta{Name: "web-3"}}, Reason: "Created", Message: "recorded event, not a change"},
		{Type: ordov1.EventType_EVENT_TYPE_ADDED, Kind: "Pod", Pod: other},
		{Type: ordov1.EventType_EVENT_TYPE_MODIFIED, Kind: "Pod", Pod: running},
		{Type: ordov1.EventType_EVENT_TYPE_DELETED, Kind: "Pod", Pod: running},
	}
	code, out, errOut := run(t, addr, "", "get", "pods", "-w", "-l", "app=nginx")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `NAME      READY     STATUS              RESTARTS   AGE       NODE
web-0     1/1       Running             0          5m        node-1
web-3     0/1       ContainerCreating   0          2s        node-1
web-3     1/1       Running             0          2s        node-1
web-3     1/1       Deleted             0          2s        node-1
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestWatchFromEmptyListPrintsHeader(t *testing.T) {
	d, addr := startServer(t)
	d.events = []*ordov1.Event{{Type: ordov1.EventType_EVENT_TYPE_ADDED, Kind: "Pod", Pod: samplePods()[0]}}
	code, out, errOut := run(t, addr, "", "get", "pods", "--watch")
	if code != 0 || errOut != "No resources found in default namespace.\n" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := "NAME      READY     STATUS              RESTARTS   AGE       NODE\n" +
		"web-0     1/1       Running             0          5m        node-1\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestDescribe(t *testing.T) {
	d, addr := startServer(t)
	if code, _, errOut := run(t, addr, webYAML, "apply", "-f", "-"); code != 0 {
		t.Fatal(errOut)
	}
	d.pods = samplePods()[:2]
	code, out, errOut := run(t, addr, "", "describe", "sts", "web")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Name:                     web\n",
		"Selector:                 app=nginx\n",
		"Service Name:             nginx\n",
		"Replicas:                 3 desired | 0 total\n",
		"Pod Management Policy:    OrderedReady\n",
		"Update Strategy:          RollingUpdate\n",
		"      Readiness:          http-get http://:80/ delay=0s timeout=1s period=0.2s #success=1 #failure=3\n",
		"  web-0   1/1       Running",
		"  web-1   1/1       Terminating",
		"Events:\n",
		"Created   StatefulSet web created with 3 replicas\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe sts web lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, addr, "", "describe", "pod", "web-0")
	if code != 0 || !strings.Contains(out, "Node:                     node-1\n") || !strings.Contains(out, "Status:                   Running\n") || !strings.Contains(out, "Events:                   <none>\n") {
		t.Errorf("describe pod web-0: exit %d\n%s", code, out)
	}
}

// Fields and objects accepted without effect are applied, with a warning
// each on stderr, as kubectl prints the API server's.
func TestApplyPrintsWarnings(t *testing.T) {
	d, addr := startServer(t)
	in := strings.Replace(webYAML, "      containers:", "      serviceAccountName: web\n      containers:", 1) +
		"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n"
	code, out, errOut := run(t, addr, in, "apply", "-f", "-")
	if code != 0 || out != "service/nginx created\nstatefulset/web created\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	want := "Warning: StatefulSet default/web: spec.template.spec.serviceAccountName: pods here have no API to reach; accepted without effect\n" +
		"Warning: ServiceAccount default/web: not stored: pods here have no API to call, so service accounts and their permissions have no effect\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	if d.sets["web"].GetSpec().GetTemplate().GetSpec().GetServiceAccountName() != "web" {
		t.Errorf("set = %v", d.sets["web"])
	}
	// A file of objects that are not stored calls nothing.
	code, out, errOut = run(t, "unix:///nonexistent/ordo.sock", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n", "apply", "-f", "-")
	if code != 0 || out != "" || !strings.HasPrefix(errOut, "Warning: ServiceAccount default/web: not stored") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
