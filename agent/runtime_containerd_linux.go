package agent

import (
	"bytes"
	"context"
	"fmt"
	"github.com/opencontainers/go-digest"
	"io"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/volumes"
)

// containerdRuntime runs containers through containerd, in one namespace.
type containerdRuntime struct {
	client      *containerd.Client
	namespace   string
	snapshotter string
	// cgroupParent, when set, places containers at <cgroupParent>/<id> instead
	// of containerd's /<namespace>/<id>, so that several nodes on one machine
	// (the local lab) never share a cgroup.
	cgroupParent string
	execSeq      atomic.Uint64
	ooms         oomWatcher

	mu sync.Mutex
	// fresh holds containers this runtime created and has not started yet:
	// they have no task, so Attach and Start skip the look-ups.
	fresh map[string]containerd.Container
	// unpacked records image digests known to be unpacked for the snapshotter.
	// Digests are immutable, so the answer stays true while the image exists.
	unpacked map[digest.Digest]bool
}

var _ Runtime = (*containerdRuntime)(nil)

// NewContainerdRuntime returns a Runtime using client in namespace. An empty
// snapshotter means containerd's default (overlayfs); an empty cgroupParent
// means containerd's cgroup layout.
func NewContainerdRuntime(client *containerd.Client, namespace, snapshotter, cgroupParent string) Runtime {
	return &containerdRuntime{client: client, namespace: namespace, snapshotter: snapshotter, cgroupParent: cgroupParent,
		fresh: map[string]containerd.Container{}, unpacked: map[digest.Digest]bool{}}
}

func (r *containerdRuntime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.namespace)
}

// imageNames are the names an image reference may be stored under: as given and
// normalised ("busybox" -> "docker.io/library/busybox:latest").
func imageNames(ref string) []string {
	names := []string{ref}
	if n, err := reference.ParseDockerRef(ref); err == nil && n.String() != ref {
		names = append(names, n.String())
	}
	return names
}

func (r *containerdRuntime) getImage(ctx context.Context, ref string) (containerd.Image, error) {
	var last error
	for _, name := range imageNames(ref) {
		img, err := r.client.GetImage(ctx, name)
		if err == nil {
			return img, nil
		}
		last = err
	}
	return nil, last
}

func (r *containerdRuntime) EnsureImage(ctx context.Context, ref, policy string) (warning string, err error) {
	ctx = r.ctx(ctx)
	if _, err := reference.ParseDockerRef(ref); err != nil {
		return "", &ImageError{Reason: "InvalidImageName", Message: fmt.Sprintf("Failed to apply default image tag %q: %v", ref, err)}
	}
	img, err := r.getImage(ctx, ref)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("look up image %s: %w", ref, err)
	}
	if img == nil || policy == "Always" {
		if policy == "Never" {
			return "", &ImageError{Reason: "ErrImageNeverPull", Message: fmt.Sprintf("Container image %q is not present with pull policy of Never", ref)}
		}
		named, _ := reference.ParseDockerRef(ref)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		pulled, perr := r.client.Pull(pctx, named.String(), containerd.WithPullUnpack, containerd.WithPullSnapshotter(r.snapshotter))
		cancel()
		switch {
		case perr == nil:
			img = pulled
		case img != nil:
			// Always, but the registry is unreachable: the local copy serves.
			warning = fmt.Sprintf("Could not pull image %q (%v); running the copy the node has", ref, perr)
		default:
			return "", &ImageError{Reason: "ErrImagePull", Message: fmt.Sprintf("failed to pull image %q: %v", ref, perr)}
		}
	}
	dgst := img.Target().Digest
	r.mu.Lock()
	known := r.unpacked[dgst]
	r.mu.Unlock()
	if known {
		return warning, nil
	}
	unpacked, err := img.IsUnpacked(ctx, r.snapshotter)
	if err != nil {
		return "", fmt.Errorf("check image %s: %w", ref, err)
	}
	if !unpacked {
		if err := img.Unpack(ctx, r.snapshotter); err != nil {
			return "", fmt.Errorf("unpack image %s: %w", ref, err)
		}
	}
	r.mu.Lock()
	r.unpacked[dgst] = true
	r.mu.Unlock()
	return warning, nil
}

func (r *containerdRuntime) Create(ctx context.Context, cfg ContainerConfig) error {
	ctx = r.ctx(ctx)
	if _, err := r.client.LoadContainer(ctx, cfg.ID); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("load container %s: %w", cfg.ID, err)
	}
	img, err := r.getImage(ctx, cfg.Image)
	if err != nil {
		return fmt.Errorf("image %s: %w", cfg.Image, err)
	}
	ispec, err := img.Spec(ctx)
	if err != nil {
		return fmt.Errorf("image %s config: %w", cfg.Image, err)
	}
	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		WithCommandArgs(ispec.Config.Entrypoint, ispec.Config.Cmd, cfg.Command, cfg.Args),
		WithWorkingDir(cfg.WorkingDir),
		WithPodEnv(cfg.Hostname, cfg.Env),
		oci.WithHostname(cfg.Hostname),
		WithNetNSPath(cfg.NetNSPath),
		WithHostNetwork(cfg.HostNetwork),
		WithReadOnlyFiles(cfg.Files),
		volumes.WithMounts(cfg.Mounts),
		WithCgroupMount(),
		WithResources(cfg.Resources),
		WithSysctls(cfg.Sysctls),
		WithPIDNamespace(cfg.PIDNSPath),
		WithSecurity(cfg.Security, cfg.Labels[identity.LabelContainer]),
	}
	if r.cgroupParent != "" {
		specOpts = append(specOpts, oci.WithCgroup(path.Join(r.cgroupParent, cfg.ID)))
	}
	var created containerd.Container
	create := func() (err error) {
		created, err = r.client.NewContainer(ctx, cfg.ID,
			containerd.WithImage(img),
			containerd.WithSnapshotter(r.snapshotter),
			containerd.WithNewSnapshot(cfg.ID, img),
			containerd.WithContainerLabels(cfg.Labels),
			containerd.WithNewSpec(specOpts...),
		)
		return err
	}
	err = create()
	if err != nil && cerrdefs.IsAlreadyExists(err) {
		// A snapshot left behind by a container that is gone: remove it and retry.
		if rerr := r.client.SnapshotService(r.snapshotterName()).Remove(ctx, cfg.ID); rerr == nil {
			err = create()
		}
	}
	if err != nil {
		return fmt.Errorf("create container %s: %w", cfg.ID, err)
	}
	r.mu.Lock()
	r.fresh[cfg.ID] = created
	r.mu.Unlock()
	return nil
}

// takeFresh returns the container if this runtime just created it (no task yet).
func (r *containerdRuntime) takeFresh(id string, remove bool) (containerd.Container, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.fresh[id]
	if ok && remove {
		delete(r.fresh, id)
	}
	return c, ok
}

func (r *containerdRuntime) snapshotterName() string {
	if r.snapshotter == "" {
		return "overlayfs"
	}
	return r.snapshotter
}

// waitChan turns containerd's exit channel of container id's task, started
// at start, into ours, telling an exit by the OOM killer.
func (r *containerdRuntime) waitChan(ctx context.Context, id string, start time.Time, ch <-chan containerd.ExitStatus) <-chan ExitStatus {
	out := make(chan ExitStatus, 1)
	go func() {
		select {
		case st := <-ch:
			code, at, err := st.Result()
			es := ExitStatus{Code: int32(code), ExitedAt: at, Err: err}
			if err == nil && code != 0 {
				es.OOMKilled = r.ooms.killed(ctx, id, start, code == 128+uint32(syscall.SIGKILL))
			}
			out <- es
		case <-ctx.Done():
			out <- ExitStatus{Err: ctx.Err()}
		}
	}()
	return out
}

func (r *containerdRuntime) Start(ctx context.Context, id, logPath string) (<-chan ExitStatus, error) {
	ctx = r.ctx(ctx)
	c, fresh := r.takeFresh(id, true)
	if !fresh {
		var err error
		if c, err = r.client.LoadContainer(ctx, id); err != nil {
			return nil, fmt.Errorf("load container %s: %w", id, err)
		}
		if old, err := c.Task(ctx, nil); err == nil {
			if _, err := old.Delete(ctx, containerd.WithProcessKill); err != nil && !cerrdefs.IsNotFound(err) {
				return nil, fmt.Errorf("delete old task of %s: %w", id, err)
			}
		}
	}
	task, err := c.NewTask(ctx, cio.LogFile(logPath))
	if err != nil {
		return nil, fmt.Errorf("create task %s: %w", id, err)
	}
	ch, err := task.Wait(ctx)
	if err != nil {
		task.Delete(ctx, containerd.WithProcessKill)
		return nil, fmt.Errorf("wait task %s: %w", id, err)
	}
	r.ooms.watch(r.client, r.namespace)
	started := time.Now()
	if err := task.Start(ctx); err != nil {
		task.Delete(ctx, containerd.WithProcessKill)
		return nil, fmt.Errorf("start task %s: %w", id, err)
	}
	return r.waitChan(ctx, id, started, ch), nil
}

func (r *containerdRuntime) Attach(ctx context.Context, id string) (bool, <-chan ExitStatus, error) {
	if _, fresh := r.takeFresh(id, false); fresh {
		return false, nil, nil
	}
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return false, nil, fmt.Errorf("load container %s: %w", id, err)
	}
	task, err := c.Task(ctx, nil)
	if cerrdefs.IsNotFound(err) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("load task %s: %w", id, err)
	}
	ch, err := task.Wait(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("wait task %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("task status %s: %w", id, err)
	}
	if st.Status != containerd.Running && st.Status != containerd.Paused && st.Status != containerd.Pausing {
		return false, nil, nil
	}
	r.ooms.watch(r.client, r.namespace)
	// The task started before this agent watched it: any OOM event seen counts.
	return true, r.waitChan(ctx, id, time.Time{}, ch), nil
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func (r *containerdRuntime) Exec(ctx context.Context, id string, args []string, out io.Writer) (int, error) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return -1, fmt.Errorf("load container %s: %w", id, err)
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, fmt.Errorf("spec of %s: %w", id, err)
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return -1, fmt.Errorf("task of %s: %w", id, err)
	}
	pspec := *spec.Process
	pspec.Args = args
	pspec.Terminal = false
	if out == nil {
		out = io.Discard
	}
	lw := &limitedWriter{w: out, n: 64 << 10}
	execID := "exec-" + strconv.FormatUint(r.execSeq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	// The process outlives a cancelled ctx long enough to be killed and deleted.
	cleanup := context.WithoutCancel(ctx)
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, lw, lw)))
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	defer proc.Delete(cleanup, containerd.WithProcessKill)
	ch, err := proc.Wait(cleanup)
	if err != nil {
		return -1, fmt.Errorf("wait exec in %s: %w", id, err)
	}
	if err := proc.Start(ctx); err != nil {
		return -1, fmt.Errorf("start exec in %s: %w", id, err)
	}
	select {
	case st := <-ch:
		code, _, err := st.Result()
		if err != nil {
			return -1, err
		}
		if pio := proc.IO(); pio != nil {
			pio.Wait()
		}
		return int(code), nil
	case <-ctx.Done():
		proc.Kill(cleanup, syscall.SIGKILL)
		return -1, ctx.Err()
	}
}

func (r *containerdRuntime) SetLabels(ctx context.Context, id string, labels map[string]string) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("load container %s: %w", id, err)
	}
	if _, err := c.SetLabels(ctx, labels); err != nil {
		return fmt.Errorf("set labels of %s: %w", id, err)
	}
	return nil
}

func (r *containerdRuntime) Signal(ctx context.Context, id string, sig syscall.Signal) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("load container %s: %w", id, err)
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return fmt.Errorf("load task %s: %w", id, err)
	}
	if err := task.Kill(ctx, sig); err != nil {
		return fmt.Errorf("signal %s: %w", id, err)
	}
	return nil
}

func (r *containerdRuntime) Stop(ctx context.Context, id string, grace time.Duration) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load container %s: %w", id, err)
	}
	task, err := c.Task(ctx, nil)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load task %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if err == nil && (st.Status == containerd.Running || st.Status == containerd.Paused) {
		wctx, cancel := context.WithCancel(ctx)
		ch, werr := task.Wait(wctx)
		if werr == nil {
			err = task.Kill(ctx, syscall.SIGTERM)
			if err == nil || cerrdefs.IsNotFound(err) {
				t := time.NewTimer(grace)
				select {
				case <-ch:
				case <-t.C:
				case <-ctx.Done():
				}
				t.Stop()
			}
		}
		cancel()
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("delete task %s: %w", id, err)
	}
	return nil
}

func (r *containerdRuntime) Remove(ctx context.Context, id string) error {
	r.takeFresh(id, true)
	r.ooms.forget(id)
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load container %s: %w", id, err)
	}
	if task, err := c.Task(ctx, nil); err == nil {
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("delete task %s: %w", id, err)
		}
	}
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", id, err)
	}
	return nil
}

func (r *containerdRuntime) List(ctx context.Context) ([]ContainerState, error) {
	ctx = r.ctx(ctx)
	cs, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q==true", identity.LabelManaged))
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]ContainerState, 0, len(cs))
	for _, c := range cs {
		labels, err := c.Labels(ctx)
		if err != nil {
			if cerrdefs.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("labels of %s: %w", c.ID(), err)
		}
		st := ContainerState{ID: c.ID(), Labels: labels}
		if task, err := c.Task(ctx, nil); err == nil {
			if s, err := task.Status(ctx); err == nil {
				st.Running = s.Status == containerd.Running || s.Status == containerd.Paused
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// execOutput runs args in the container and returns their output.
func execOutput(ctx context.Context, rt Runtime, id string, args ...string) (string, int, error) {
	var b bytes.Buffer
	code, err := rt.Exec(ctx, id, args, &b)
	return b.String(), code, err
}
