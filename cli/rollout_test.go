package cli

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// rolloutDouble answers the rollout RPCs from canned state and records the
// requests it got.
type rolloutDouble struct {
	ordov1.UnimplementedControlServer

	mu       sync.Mutex
	statuses []*ordov1.RolloutStatusResponse // sent in order
	endWith  error                           // returned after the statuses
	lastReq  *ordov1.RolloutStatusRequest
	revs     []*ordov1.ControllerRevision
	undoTo   int64
	restarts int
	images   map[string]string
}

func (d *rolloutDouble) RolloutStatus(req *ordov1.RolloutStatusRequest, stream ordov1.Control_RolloutStatusServer) error {
	d.mu.Lock()
	d.lastReq = req
	sts, end := d.statuses, d.endWith
	d.mu.Unlock()
	if req.GetName() != "web" {
		return errdefs.ToGRPC(errdefs.NotFound("statefulset", "default/"+req.GetName()))
	}
	for _, s := range sts {
		if err := stream.Send(s); err != nil {
			return err
		}
	}
	return errdefs.ToGRPC(end)
}

func (d *rolloutDouble) RolloutHistory(_ context.Context, req *ordov1.RolloutHistoryRequest) (*ordov1.RolloutHistoryResponse, error) {
	return &ordov1.RolloutHistoryResponse{Revisions: d.revs}, nil
}

func (d *rolloutDouble) RolloutUndo(_ context.Context, req *ordov1.RolloutUndoRequest) (*ordov1.RolloutUndoResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.undoTo = req.GetToRevision()
	n := req.GetToRevision()
	if n == 0 {
		n = 1
	}
	return &ordov1.RolloutUndoResponse{Revision: &ordov1.ControllerRevision{Revision: n}}, nil
}

func (d *rolloutDouble) RolloutRestart(_ context.Context, req *ordov1.RolloutRestartRequest) (*ordov1.RolloutRestartResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.restarts++
	return &ordov1.RolloutRestartResponse{}, nil
}

func (d *rolloutDouble) SetImage(_ context.Context, req *ordov1.SetImageRequest) (*ordov1.SetImageResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range req.GetImages() {
		if c != "app" && c != "*" {
			return nil, errdefs.ToGRPC(errdefs.Invalid("images["+c+"]", "statefulset web has no container %q", c))
		}
	}
	d.images = req.GetImages()
	return &ordov1.SetImageResponse{}, nil
}

func startRolloutServer(t *testing.T, d *rolloutDouble) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ordo.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ordov1.RegisterControlServer(srv, d)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return "unix://" + sock
}

func TestRolloutStatusExitCodes(t *testing.T) {
	d := &rolloutDouble{statuses: []*ordov1.RolloutStatusResponse{
		{Message: "Waiting for 1 pods to be ready..."},
		{Message: "statefulset rolling update complete 3 pods at revision web-abc...", Done: true},
	}}
	addr := startRolloutServer(t, d)
	code, out, errOut := run(t, addr, "", "rollout", "status", "sts/web")
	if code != 0 || errOut != "" {
		t.Fatalf("done rollout: exit %d, stderr %q", code, errOut)
	}
	if out != "Waiting for 1 pods to be ready...\nstatefulset rolling update complete 3 pods at revision web-abc...\n" {
		t.Errorf("stdout %q", out)
	}
	if !d.lastReq.GetWatch() || d.lastReq.GetNamespace() != "default" {
		t.Errorf("request %v, want watch in namespace default", d.lastReq)
	}

	// One snapshot without --watch.
	d.statuses = d.statuses[:1]
	code, out, _ = run(t, addr, "", "rollout", "status", "statefulset", "web", "--watch=false")
	if code != 0 || d.lastReq.GetWatch() || out != "Waiting for 1 pods to be ready...\n" {
		t.Errorf("snapshot: exit %d, watch %v, stdout %q", code, d.lastReq.GetWatch(), out)
	}

	// A failed rollout: the reason on stderr, exit status 1.
	d.statuses = []*ordov1.RolloutStatusResponse{
		{Message: "Waiting for 1 pods to be ready..."},
		{Message: "rollout failed and was rolled back: web-2 is not Ready", Failed: true},
	}
	d.endWith = errdefs.ErrConflict
	code, out, errOut = run(t, addr, "", "rollout", "status", "sts/web")
	if code != 1 || !strings.Contains(errOut, "rolled back: web-2 is not Ready") || strings.Contains(out, "rolled back") {
		t.Errorf("failed rollout: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, _, errOut = run(t, addr, "", "rollout", "status", "sts/nope")
	if code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown set: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := run(t, addr, "", "rollout", "status", "pod/web-0"); code != 2 {
		t.Errorf("rollout status of a pod: exit %d, want 2", code)
	}
	if code, _, _ := run(t, addr, "", "rollout", "pause", "sts/web"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}

func TestRolloutHistoryUndoRestart(t *testing.T) {
	d := &rolloutDouble{revs: []*ordov1.ControllerRevision{
		{Metadata: &ordov1.ObjectMeta{Name: "web-aaa"}, Revision: 1},
		{Metadata: &ordov1.ObjectMeta{Name: "web-bbb"}, Revision: 2, ChangeCause: "set image v2",
			Template: &ordov1.PodTemplate{
				Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &ordov1.PodSpec{Containers: []*ordov1.Container{{Name: "app", Image: "ordo.local/busybox:v2"}}},
			}},
	}}
	addr := startRolloutServer(t, d)
	code, out, errOut := run(t, addr, "", "rollout", "history", "sts/web")
	want := "statefulset.apps/web\nREVISION   CHANGE-CAUSE\n1          <none>\n2          set image v2\n"
	if code != 0 || out != want {
		t.Errorf("history: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errOut, out, want)
	}
	code, out, _ = run(t, addr, "", "rollout", "history", "sts/web", "--revision=2")
	if code != 0 || !strings.Contains(out, "with revision #2") || !strings.Contains(out, "ordo.local/busybox:v2") ||
		!strings.Contains(out, "app=web") {
		t.Errorf("history --revision=2: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, addr, "", "rollout", "history", "sts/web", "--revision=9"); code != 1 || !strings.Contains(errOut, "revision 9") {
		t.Errorf("history of a missing revision: exit %d, %q", code, errOut)
	}

	code, out, _ = run(t, addr, "", "rollout", "undo", "sts/web")
	if code != 0 || d.undoTo != 0 || out != "statefulset.apps/web rolled back to revision 1\n" {
		t.Errorf("undo: exit %d, to %d, %q", code, d.undoTo, out)
	}
	code, _, _ = run(t, addr, "", "rollout", "undo", "sts/web", "--to-revision=2")
	if code != 0 || d.undoTo != 2 {
		t.Errorf("undo --to-revision=2: exit %d, to %d", code, d.undoTo)
	}
	if code, _, _ := run(t, addr, "", "rollout", "undo", "sts/web", "--to-revision=x"); code != 2 {
		t.Errorf("undo --to-revision=x: exit %d, want 2", code)
	}
	if code, _, _ := run(t, addr, "", "rollout", "undo", "sts/web", "--revision=1"); code != 2 {
		t.Errorf("undo --revision: exit %d, want 2 (history's flag)", code)
	}

	code, out, _ = run(t, addr, "", "rollout", "restart", "sts/web")
	if code != 0 || d.restarts != 1 || out != "statefulset.apps/web restarted\n" {
		t.Errorf("restart: exit %d, restarts %d, %q", code, d.restarts, out)
	}
}

func TestSetImage(t *testing.T) {
	d := &rolloutDouble{}
	addr := startRolloutServer(t, d)
	code, out, errOut := run(t, addr, "", "set", "image", "sts/web", "app=ordo.local/busybox:v2")
	if code != 0 || out != "statefulset.apps/web image updated\n" || d.images["app"] != "ordo.local/busybox:v2" {
		t.Errorf("set image: exit %d, %q %q, images %v", code, out, errOut, d.images)
	}
	code, _, errOut = run(t, addr, "", "set", "image", "sts/web", "db=x")
	if code != 1 || !strings.Contains(errOut, "images[db]") {
		t.Errorf("unknown container: exit %d, stderr %q", code, errOut)
	}
	for _, bad := range [][]string{{"set", "image", "sts/web"}, {"set", "image", "sts/web", "app"}, {"set", "env", "sts/web", "A=b"}} {
		if code, _, _ := run(t, addr, "", bad...); code != 2 {
			t.Errorf("%q: exit %d, want 2", bad, code)
		}
	}
}
