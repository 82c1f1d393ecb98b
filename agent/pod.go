package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

// PodNetwork gives each pod its network namespace (and later its address).
type PodNetwork interface {
	Setup(ctx context.Context, key string) (network.Pod, error)
	Teardown(ctx context.Context, key string) error
}

var _ PodNetwork = (*network.NetNS)(nil)

// labelGrace records a pod's termination grace period on its containers, so that
// an agent stopping a pod it only found in containerd still honours it.
const labelGrace = "ordo.dev/termination-grace-seconds"

// labelRestarts keeps a container's restart count across agent restarts.
const labelRestarts = "ordo.dev/restarts"

const defaultGrace = 30 * time.Second

// podEnv is what pod workers share.
type podEnv struct {
	rt       Runtime
	net      PodNetwork
	vols     VolumeManager
	stateDir string
	nodeName string
	nodeIP   string                         // hostNetwork pods' IP
	dns      func() (server, domain string) // nil: pods keep the image's resolv.conf
	log      *slog.Logger
	report   func(*ordov1.PodStatusReport)

	config    *configStore  // ConfigMaps and Secrets for env and volumes
	resources nodeResources // unset limits in the downward API
}

func (e *podEnv) podDir(key string) string { return filepath.Join(e.stateDir, "pods", key) }
func (e *podEnv) logDir(key string) string { return filepath.Join(e.stateDir, "logs", key) }

// ctrState is the worker's view of one container.
type ctrState struct {
	spec        *ordov1.Container
	id          string
	kind        ctrKind
	done        bool   // an init container that completed
	hookErr     string // the postStart hook of this incarnation failed
	gen         int    // bumped when an incarnation ends; events of older ones are ignored
	running     bool
	startedAt   time.Time
	restarts    int32
	crashes     int // consecutive quick exits
	lastExit    int32
	lastReason  string // how the last incarnation ended: Completed, Error, OOMKilled
	reason, msg string
	startupDone bool
	readyOK     bool
	hasProbes   bool
	probeCancel context.CancelFunc
}

func (c *ctrState) ready() bool { return c.running && c.startupDone && c.readyOK }

type (
	exitEvent struct {
		i, gen int
		st     ExitStatus
	}
	probeEvent struct {
		i, gen int
		kind   probeKind
		res    probeResult
		msg    string
	}
	restartEvent  struct{ i, gen int }
	killEvent     struct{ i, gen int }
	reattachEvent struct{ i, gen int }
)

// podWorker runs one incarnation (name + epoch) of a pod from creation to GONE.
type podWorker struct {
	env       *podEnv
	log       *slog.Logger
	key       string
	name      string
	namespace string
	epoch     uint64
	pod       *ordov1.Pod      // nil: a pod found in containerd that is only to be stopped
	found     []ContainerState // its containers found in containerd at start-up
	grace     time.Duration

	stopc    chan struct{}
	stopOnce sync.Once
	stopping atomic.Bool
	done     chan struct{}
	events   chan any

	// Owned by the run goroutine.
	ctx                    context.Context
	phase                  ordov1.PodPhase
	reason, message        string
	netns                  network.Pod
	volumes                map[string]volumes.Source
	cfg                    podConfig // resolved environments, config volume updates
	sysctls                map[string]string
	pidNSPath              string // the pod's shared PID namespace
	hostPorts              *hostPorts
	ctrs                   []*ctrState // init containers (nInit of them) first, in order
	nInit                  int
	initializing           bool // init containers are being run
	startedTime, readyTime time.Time
	wasReady               bool
	exitCode               int32
	last                   *ordov1.PodStatus
}

func newPodWorker(env *podEnv, pod *ordov1.Pod, found []ContainerState) *podWorker {
	w := &podWorker{
		env:       env,
		key:       podKeyOf(pod),
		name:      pod.GetMetadata().GetName(),
		namespace: pod.GetMetadata().GetNamespace(),
		epoch:     pod.GetEpoch(),
		pod:       pod,
		found:     found,
		grace:     defaultGrace,
		stopc:     make(chan struct{}),
		done:      make(chan struct{}),
		events:    make(chan any, 16),
	}
	if spec := pod.GetSpec(); spec != nil && spec.TerminationGracePeriodSeconds != nil && *spec.TerminationGracePeriodSeconds >= 0 {
		g := *spec.TerminationGracePeriodSeconds
		w.grace = time.Duration(g) * time.Second
	}
	add := func(c *ordov1.Container, kind ctrKind) {
		cs := &ctrState{spec: c, id: identity.ContainerID(w.namespace, w.name, c.GetName()), kind: kind}
		for _, f := range found {
			if n, err := strconv.Atoi(f.Labels[labelRestarts]); f.ID == cs.id && err == nil {
				cs.restarts = int32(n)
			}
		}
		w.ctrs = append(w.ctrs, cs)
	}
	for _, c := range pod.GetSpec().GetInitContainers() {
		kind := initContainer
		if c.GetRestartPolicy() == "Always" {
			kind = sidecar
		}
		add(c, kind)
	}
	w.nInit = len(w.ctrs)
	for _, c := range pod.GetSpec().GetContainers() {
		add(c, appContainer)
	}
	w.log = env.log.With("pod", w.name, "namespace", w.namespace, "epoch", w.epoch)
	return w
}

// newStopWorker is a worker that only stops a pod found in containerd.
func newStopWorker(env *podEnv, f *foundPod) *podWorker {
	w := newPodWorker(env, &ordov1.Pod{
		Metadata: &ordov1.ObjectMeta{Name: f.name, Namespace: f.namespace},
		Epoch:    f.epoch,
	}, f.containers)
	w.pod = nil
	w.grace = f.grace
	return w
}

// stop asks the worker to stop the pod; it returns at once.
func (w *podWorker) stop() {
	w.stopOnce.Do(func() {
		w.stopping.Store(true)
		close(w.stopc)
	})
}

func (w *podWorker) send(ev any) {
	select {
	case w.events <- ev:
	case <-w.done:
	}
}

// run drives the pod. When ctx ends (the agent shuts down) it returns leaving
// the containers running; only stop() removes them.
func (w *podWorker) run(ctx context.Context) {
	defer close(w.done)
	defer func() { w.hostPorts.Close() }() // also when the agent exits: a new one forwards
	w.ctx = ctx
	if w.pod != nil {
		if w.setup(ctx) {
			w.loop(ctx)
		}
		if ctx.Err() != nil {
			return
		}
	}
	w.teardown(ctx)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// setup creates the pod's network, files and containers, starting them in
// template order. It returns false when the pod is stopped or ctx ends first.
func (w *podWorker) setup(ctx context.Context) bool {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.stopc:
			cancel()
		case <-sctx.Done():
		}
	}()
	w.phase = ordov1.PodPhase_POD_PHASE_PENDING
	w.reason, w.message = "ContainerCreating", ""
	for _, f := range w.found {
		if f.Running {
			// Adopting a running pod: it does not go back to Pending.
			w.phase = ordov1.PodPhase_POD_PHASE_RUNNING
		}
	}
	w.publish()

	if !w.checkSpec(sctx) {
		return false
	}
	t0 := time.Now()
	for attempt := 1; !w.pod.GetSpec().GetHostNetwork(); attempt++ {
		p, err := w.env.net.Setup(sctx, w.key)
		if err == nil {
			w.netns = p
			break
		}
		if sctx.Err() != nil {
			return false
		}
		w.log.Warn("pod network setup failed", "err", err)
		w.reason, w.message = "NetworkNotReady", err.Error()
		w.publish()
		if !sleep(sctx, backoff(attempt, 100*time.Millisecond, 10*time.Second)) {
			return false
		}
	}
	if w.pod.GetSpec().GetHostNetwork() {
		w.netns = network.Pod{IP: w.env.nodeIP}
	}
	tNet := time.Now()
	if err := w.writeFiles(); err != nil {
		w.log.Error("write pod files", "err", err)
		w.reason, w.message = "ContainerCreating", err.Error()
		w.publish()
		return false
	}
	tFiles := time.Now()
	if !w.sandbox(sctx) || !w.prepareVolumes(sctx) || !w.applyFSGroup(sctx) {
		return false
	}
	if !w.runInit(sctx) {
		return false
	}
	for i := w.nInit; i < len(w.ctrs); i++ {
		if !w.startContainer(sctx, i) {
			return false
		}
	}
	w.phase = ordov1.PodPhase_POD_PHASE_RUNNING
	w.reason, w.message = "", ""
	w.publish()
	w.log.Debug("pod started", "network", tNet.Sub(t0), "files", tFiles.Sub(tNet), "containers", time.Since(tFiles))
	return true
}

// checkSpec refuses what the node cannot run as asked (a sysctl that is not
// namespaced): the pod stays Pending with the reason until it is stopped.
func (w *podWorker) checkSpec(ctx context.Context) bool {
	spec := w.pod.GetSpec()
	sysctls, err := checkSysctls(spec.GetSecurityContext().GetSysctls(), spec.GetHostNetwork())
	if err == nil {
		w.sysctls = sysctls
		return true
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		w.reason, w.message = ce.Reason, ce.Message
	} else {
		w.reason, w.message = "CreateContainerConfigError", err.Error()
	}
	w.log.Warn("pod refused", "reason", w.reason, "message", w.message)
	w.publish()
	<-ctx.Done()
	return false
}

// sandbox sets up what the pod's containers share besides the network: the
// PID namespace (shareProcessNamespace) and the forwarding of host ports. It
// retries with back-off; false when the pod is stopped or ctx ends first.
func (w *podWorker) sandbox(ctx context.Context) bool {
	mappings := hostPortMappings(w.pod.GetSpec())
	if w.pod.GetSpec().GetHostNetwork() || w.netns.NetNSPath == "" {
		mappings = nil // the containers' own sockets are the node's
	}
	for attempt := 1; ; attempt++ {
		reason := "CreatePodSandboxError"
		err := w.ensurePIDNS(ctx)
		if err == nil && len(mappings) > 0 && w.hostPorts == nil {
			reason = "HostPortUnavailable"
			w.hostPorts, err = openHostPorts(mappings, w.netns.NetNSPath, w.netns.IP, w.log)
		}
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		w.log.Warn("pod sandbox not ready", "reason", reason, "err", err)
		if w.reason != reason || w.message != err.Error() {
			w.reason, w.message = reason, err.Error()
			w.publish()
		}
		if !sleep(ctx, backoff(attempt, 200*time.Millisecond, 10*time.Second)) {
			return false
		}
	}
}

// applyFSGroup gives the pod's writable volumes to its fsGroup before any
// container starts. It retries with back-off; false when the pod is stopped
// or ctx ends first.
func (w *podWorker) applyFSGroup(ctx context.Context) bool {
	sc := w.pod.GetSpec().GetSecurityContext()
	if sc == nil || sc.FsGroup == nil {
		return true
	}
	fsGroup := sc.FsGroup
	for attempt := 1; ; attempt++ {
		var errs []error
		for _, src := range fsGroupVolumes(w.pod.GetResolvedVolumes(), w.volumes) {
			if err := setVolumeOwnership(src.Path, *fsGroup); err != nil {
				errs = append(errs, err)
			}
		}
		err := errors.Join(errs...)
		if err == nil {
			return true
		}
		w.log.Warn("fsGroup ownership not set", "err", err)
		if msg := "fsGroup: " + err.Error(); w.reason != reasonFailedMount || w.message != msg {
			w.reason, w.message = reasonFailedMount, msg
			w.publish()
		}
		if !sleep(ctx, backoff(attempt, 200*time.Millisecond, 10*time.Second)) {
			return false
		}
	}
}

func (w *podWorker) hostname() string {
	if h := w.pod.GetSpec().GetHostname(); h != "" {
		return h
	}
	return w.name
}

// utsHostname is the container's host name: the FQDN with setHostnameAsFQDN.
func (w *podWorker) utsHostname() string {
	if w.pod.GetSpec().GetSetHostnameAsFqdn() {
		if f := podFQDN(w.hostname(), w.pod.GetSpec().GetSubdomain(), w.namespace, w.domain()); f != "" {
			return f
		}
	}
	return w.hostname()
}

func (w *podWorker) domain() string {
	if w.env.dns != nil {
		if _, d := w.env.dns(); d != "" {
			return d
		}
	}
	return "cluster.local"
}

func (w *podWorker) writeFiles() error {
	dir := w.env.podDir(w.key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(w.env.logDir(w.key), 0o755); err != nil {
		return err
	}
	host := w.hostname()
	names := host
	if sub := w.pod.GetSpec().GetSubdomain(); sub != "" {
		ns := w.namespace
		if ns == "" {
			ns = identity.DefaultNamespace
		}
		names = fmt.Sprintf("%s.%s.%s.svc.%s\t%s", host, sub, ns, w.domain(), host)
	}
	ip := w.netns.IP
	if ip == "" {
		ip = "127.0.1.1"
	}
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + ip + "\t" + names + "\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return err
	}
	if w.env.dns != nil {
		if server, domain := w.env.dns(); server != "" {
			if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(resolvConf(server, domain, w.namespace)), 0o644); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "hostname"), []byte(w.utsHostname()+"\n"), 0o644)
}

func (w *podWorker) containerConfig(c *ctrState) ContainerConfig {
	p := w.pod
	labels := map[string]string{
		identity.LabelManaged:   "true",
		identity.LabelNamespace: w.namespace,
		identity.LabelSet:       p.GetSetName(),
		identity.LabelPod:       w.name,
		identity.LabelOrdinal:   strconv.Itoa(int(p.GetOrdinal())),
		identity.LabelRevision:  p.GetRevision(),
		identity.LabelEpoch:     strconv.FormatUint(w.epoch, 10),
		identity.LabelContainer: c.spec.GetName(),
		identity.LabelNode:      w.env.nodeName,
		labelGrace:              strconv.FormatInt(int64(w.grace/time.Second), 10),
	}
	if k := c.kind.label(); k != "" {
		labels[labelKind] = k
	}
	env, command, args := w.containerEnv(c)
	dir := w.env.podDir(w.key)
	cfg := ContainerConfig{
		ID:         c.id,
		Image:      c.spec.GetImage(),
		PullPolicy: c.spec.GetImagePullPolicy(),
		Labels:     labels,
		Command:    command,
		Args:       args,
		Env:        env,
		WorkingDir: c.spec.GetWorkingDir(),
		Hostname:   w.utsHostname(),
		NetNSPath:  w.netns.NetNSPath,
		Files:      w.files(dir),
		Mounts:     w.mounts(c),
	}
	cfg.HostNetwork = p.GetSpec().GetHostNetwork()
	cfg.Security = effectiveSecurity(p.GetSpec().GetSecurityContext(), c.spec.GetSecurityContext())
	cfg.Sysctls = w.sysctls
	cfg.PIDNSPath = w.pidNSPath
	r := c.spec.GetResources()
	cfg.Resources = Resources{
		CPULimitMillis:   r.GetCpuLimitMillis(),
		CPURequestMillis: r.GetCpuRequestMillis(),
		MemoryLimitBytes: r.GetMemoryLimitBytes(),
	}
	return cfg
}

// files are the pod's files bind-mounted into every container.
func (w *podWorker) files(dir string) map[string]string {
	f := map[string]string{
		"/etc/hosts":    filepath.Join(dir, "hosts"),
		"/etc/hostname": filepath.Join(dir, "hostname"),
	}
	if _, err := os.Stat(filepath.Join(dir, "resolv.conf")); err == nil {
		f["/etc/resolv.conf"] = filepath.Join(dir, "resolv.conf")
	}
	return f
}

func (w *podWorker) logPath(c *ctrState) string {
	return filepath.Join(w.env.logDir(w.key), c.spec.GetName()+".log")
}

// startContainer makes container i run: image, container, then the running
// task it already has (adoption) or a new one. It retries with back-off.
func (w *podWorker) startContainer(ctx context.Context, i int) bool {
	c := w.ctrs[i]
	fail := func(attempt int, reason string, err error) bool {
		var (
			ie *ImageError
			ce *ConfigError
		)
		if errors.As(err, &ie) {
			reason = ie.Reason
			c.reason, c.msg = ie.Reason, ie.Message
		} else if errors.As(err, &ce) {
			reason = ce.Reason
			c.reason, c.msg = ce.Reason, ce.Message
		} else {
			c.reason, c.msg = reason, err.Error()
		}
		w.reason, w.message = c.reason, c.msg
		w.log.Warn("container not started", "container", c.spec.GetName(), "reason", reason, "err", err)
		w.publish()
		return sleep(ctx, backoff(attempt, 200*time.Millisecond, 30*time.Second))
	}
	for attempt := 1; ; attempt++ {
		t0 := time.Now()
		warning, err := w.env.rt.EnsureImage(ctx, c.spec.GetImage(), c.spec.GetImagePullPolicy())
		if err != nil {
			if ctx.Err() != nil || !fail(attempt, "ErrImagePull", err) {
				return false
			}
			continue
		}
		if warning != "" {
			w.warn(warning)
		}
		tImage := time.Now()
		if err := w.resolveContainer(c); err != nil {
			if !w.configNotReady(ctx, c, attempt, err) {
				return false
			}
			continue
		}
		if err := w.env.rt.Create(ctx, w.containerConfig(c)); err != nil {
			if ctx.Err() != nil || !fail(attempt, "CreateContainerError", err) {
				return false
			}
			continue
		}
		tCreate := time.Now()
		// The exit channel lives as long as the worker, not just this setup.
		running, exit, err := w.env.rt.Attach(w.ctx, c.id)
		if err == nil && !running {
			exit, err = w.env.rt.Start(w.ctx, c.id, w.logPath(c))
		}
		if err != nil {
			if ctx.Err() != nil || !fail(attempt, "StartError", err) {
				return false
			}
			continue
		}
		w.log.Debug("container started", "container", c.spec.GetName(), "image", tImage.Sub(t0),
			"create", tCreate.Sub(tImage), "start", time.Since(tCreate))
		c.reason, c.msg = "", ""
		w.reason, w.message = "ContainerCreating", ""
		w.started(i, exit)
		if !running {
			// As the kubelet does, the next container starts once the hook is done.
			if err := w.runPostStart(ctx, i); err != nil {
				if ctx.Err() != nil {
					return false
				}
				w.failPostStart(i, err)
			}
		}
		w.publish()
		return true
	}
}

// started records that container i runs and watches it.
func (w *podWorker) started(i int, exit <-chan ExitStatus) {
	c := w.ctrs[i]
	c.running = true
	c.startedAt = time.Now()
	if w.startedTime.IsZero() {
		w.startedTime = c.startedAt
	}
	gen := c.gen
	go func() {
		st := <-exit
		w.send(exitEvent{i: i, gen: gen, st: st})
	}()
	w.startProbes(i)
}

func (w *podWorker) startProbes(i int) {
	c := w.ctrs[i]
	sp, rp, lp := c.spec.GetStartupProbe(), c.spec.GetReadinessProbe(), c.spec.GetLivenessProbe()
	c.startupDone = sp == nil
	c.readyOK = rp == nil
	if sp == nil && rp == nil && lp == nil {
		return
	}
	pctx, cancel := context.WithCancel(w.ctx)
	c.probeCancel = cancel
	gen := c.gen
	tg := probeTarget{rt: w.env.rt, containerID: c.id, netnsPath: w.netns.NetNSPath, podIP: w.netns.IP}
	run := func(kind probeKind, p *ordov1.Probe) probeResult {
		pr := newProber(p, tg)
		if pr == nil {
			return probeSuccess
		}
		last := probeUnknown
		runProbe(pctx, kind, timingOf(kind, p), pr, func(r probeResult, msg string) {
			last = r
			w.send(probeEvent{i: i, gen: gen, kind: kind, res: r, msg: msg})
		})
		return last
	}
	go func() {
		if sp != nil && run(startupProbe, sp) != probeSuccess {
			return
		}
		if sp != nil && newProber(sp, tg) == nil {
			w.send(probeEvent{i: i, gen: gen, kind: startupProbe, res: probeSuccess})
		}
		if rp != nil {
			go run(readinessProbe, rp)
		}
		if lp != nil {
			go run(livenessProbe, lp)
		}
	}()
}

func (w *podWorker) endIncarnation(c *ctrState) {
	c.running = false
	c.gen++
	if c.probeCancel != nil {
		c.probeCancel()
		c.probeCancel = nil
	}
}

func (w *podWorker) shouldRestart(code int32) bool {
	switch w.pod.GetSpec().GetRestartPolicy() {
	case "Never":
		return false
	case "OnFailure":
		return code != 0
	default:
		return true
	}
}

// loop handles container exits, restarts and probe results until the pod is
// stopped (nil) or ctx ends.
func (w *podWorker) loop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.stopc:
			return nil
		case ev := <-w.events:
			w.handle(ctx, ev)
			w.publish()
		}
	}
}

func (w *podWorker) handle(ctx context.Context, ev any) {
	switch ev := ev.(type) {
	case exitEvent:
		c := w.ctrs[ev.i]
		if ev.gen != c.gen || !c.running {
			return
		}
		if ev.st.Err != nil {
			if ctx.Err() != nil {
				return
			}
			// Lost track of the task (containerd restarting?): look again soon.
			w.log.Warn("watching container failed", "container", c.spec.GetName(), "err", ev.st.Err)
			gen := c.gen
			time.AfterFunc(time.Second, func() { w.send(reattachEvent{i: ev.i, gen: gen}) })
			return
		}
		w.exited(ev.i, ev.st.Code, ev.st.OOMKilled)
	case reattachEvent:
		c := w.ctrs[ev.i]
		if ev.gen != c.gen || !c.running {
			return
		}
		running, exit, err := w.env.rt.Attach(ctx, c.id)
		switch {
		case err != nil:
			gen := c.gen
			time.AfterFunc(time.Second, func() { w.send(reattachEvent{i: ev.i, gen: gen}) })
		case running:
			gen := c.gen
			go func() { st := <-exit; w.send(exitEvent{i: ev.i, gen: gen, st: st}) }()
		default:
			w.exited(ev.i, 255, false)
		}
	case restartEvent:
		c := w.ctrs[ev.i]
		if ev.gen != c.gen || c.running {
			return
		}
		exit, err := w.env.rt.Start(ctx, c.id, w.logPath(c))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.crashes++
			c.reason, c.msg = "StartError", err.Error()
			w.scheduleRestart(ev.i)
			return
		}
		c.restarts++
		if err := w.env.rt.SetLabels(ctx, c.id, map[string]string{labelRestarts: strconv.Itoa(int(c.restarts))}); err != nil {
			w.log.Warn("record restart count", "container", c.spec.GetName(), "err", err)
		}
		w.started(ev.i, exit)
		if c.spec.GetLifecycle().GetPostStart() != nil {
			i, gen := ev.i, c.gen
			go func() {
				if err := w.runPostStart(w.ctx, i); err != nil && w.ctx.Err() == nil {
					w.send(hookEvent{i: i, gen: gen, err: err})
				}
			}()
		}
	case hookEvent:
		if c := w.ctrs[ev.i]; ev.gen == c.gen && c.running {
			w.failPostStart(ev.i, ev.err)
		}
	case probeEvent:
		c := w.ctrs[ev.i]
		if ev.gen != c.gen || !c.running {
			return
		}
		switch ev.kind {
		case startupProbe:
			if ev.res == probeSuccess {
				c.startupDone = true
				return
			}
			w.kill(ev.i, fmt.Sprintf("Container %s failed startup probe, will be restarted: %s", c.spec.GetName(), ev.msg))
		case readinessProbe:
			c.readyOK = ev.res == probeSuccess
			if !c.readyOK {
				c.msg = ev.msg
			} else if c.reason == "" {
				c.msg = ""
			}
		case livenessProbe:
			if ev.res == probeFailure {
				w.kill(ev.i, fmt.Sprintf("Container %s failed liveness probe, will be restarted: %s", c.spec.GetName(), ev.msg))
			}
		}
	case killEvent:
		c := w.ctrs[ev.i]
		if ev.gen == c.gen && c.running {
			if err := w.env.rt.Signal(ctx, c.id, syscall.SIGKILL); err != nil {
				w.log.Warn("kill container", "container", c.spec.GetName(), "err", err)
			}
		}
	}
}

// kill stops container i gracefully (its exit then restarts it).
func (w *podWorker) kill(i int, msg string) {
	c := w.ctrs[i]
	c.msg = msg
	c.readyOK = false
	w.log.Info("restarting container", "container", c.spec.GetName(), "message", msg)
	if c.probeCancel != nil {
		c.probeCancel()
		c.probeCancel = nil
	}
	gen := c.gen
	go func() {
		// preStop, then SIGTERM, then SIGKILL: all within the grace period.
		deadline := deadlineAfter(w.grace)
		w.preStop(w.ctx, c, deadline)
		if err := w.env.rt.Signal(w.ctx, c.id, syscall.SIGTERM); err != nil {
			w.log.Warn("signal container", "container", c.spec.GetName(), "err", err)
		}
		time.AfterFunc(time.Until(deadline), func() { w.send(killEvent{i: i, gen: gen}) })
	}()
}

func (w *podWorker) exited(i int, code int32, oomKilled bool) {
	c := w.ctrs[i]
	ran := time.Since(c.startedAt)
	w.endIncarnation(c)
	c.lastExit, w.exitCode = code, code
	c.crashes = nextCrashCount(c.crashes, ran)
	c.msg = fmt.Sprintf("exited with code %d", code)
	failed := code != 0
	switch {
	case c.hookErr != "":
		c.reason, c.msg = "PostStartHookError", c.hookErr
		failed = true
	case oomKilled:
		c.reason = "OOMKilled"
		c.msg = fmt.Sprintf("killed by the OOM killer at its memory limit (exit code %d)", code)
	case code == 0:
		c.reason = "Completed"
	default:
		c.reason = "Error"
	}
	c.hookErr = ""
	c.lastReason = c.reason
	w.log.Info("container exited", "container", c.spec.GetName(), "code", code, "reason", c.reason)
	if c.kind == initContainer && !failed {
		c.done, c.crashes = true, 0
		return
	}
	if !w.restartable(c, code, failed) {
		if c.kind == initContainer {
			// restartPolicy Never: the pod cannot initialise.
			w.phase = ordov1.PodPhase_POD_PHASE_FAILED
			w.stopSidecars()
			return
		}
		w.checkFinished()
		return
	}
	w.scheduleRestart(i)
}

func (w *podWorker) scheduleRestart(i int) {
	c := w.ctrs[i]
	delay := restartDelay(c.crashes)
	if c.crashes > 1 {
		c.reason = "CrashLoopBackOff"
		c.msg = fmt.Sprintf("back-off %v restarting failed container %s in pod %s (last exit code %d", delay, c.spec.GetName(), w.name, c.lastExit)
		if c.lastReason == "OOMKilled" {
			c.msg += ", OOMKilled"
		}
		c.msg += ")"
	}
	gen := c.gen
	time.AfterFunc(delay, func() { w.send(restartEvent{i: i, gen: gen}) })
}

// checkFinished sets Succeeded/Failed once no container runs or will restart.
func (w *podWorker) checkFinished() {
	if w.initializing {
		return
	}
	failed := false
	for _, c := range w.ctrs[w.nInit:] {
		if c.running || w.restartable(c, c.lastExit, c.lastExit != 0) {
			return
		}
		failed = failed || c.lastExit != 0 || c.lastReason == "PostStartHookError"
	}
	if failed {
		w.phase = ordov1.PodPhase_POD_PHASE_FAILED
	} else {
		w.phase = ordov1.PodPhase_POD_PHASE_SUCCEEDED
	}
	w.stopSidecars()
}

// teardown stops and removes every container of the pod, its network and files,
// then reports GONE. It retries until containerd confirms or ctx ends.
func (w *podWorker) teardown(ctx context.Context) {
	w.phase = ordov1.PodPhase_POD_PHASE_TERMINATING
	w.reason, w.message = "", ""
	wasRunning := make([]bool, len(w.ctrs))
	for i, c := range w.ctrs {
		wasRunning[i] = c.running
		w.endIncarnation(c)
		c.reason, c.msg = "", ""
	}
	w.publish()
	w.stopInOrder(ctx, wasRunning)
	ids := map[string]bool{}
	for _, c := range w.ctrs {
		ids[c.id] = true
	}
	for _, f := range w.found {
		ids[f.ID] = true
	}
	for attempt := 1; ; attempt++ {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		pending := make([]string, 0, len(ids))
		for id := range ids {
			pending = append(pending, id)
		}
		for _, id := range pending {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := w.env.rt.Stop(ctx, id, w.grace)
				if err == nil {
					err = w.env.rt.Remove(ctx, id)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					delete(ids, id)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			w.log.Warn("stopping pod", "err", err)
			if !sleep(ctx, backoff(attempt, 100*time.Millisecond, 5*time.Second)) {
				return
			}
			continue
		}
		break
	}
	w.hostPorts.Close()
	if err := stopPIDNSInit(w.env.podDir(w.key)); err != nil {
		w.log.Warn("stop the pod's PID namespace", "err", err)
	}
	if err := w.env.net.Teardown(ctx, w.key); err != nil {
		w.log.Warn("remove pod network", "err", err)
	}
	if err := os.RemoveAll(w.env.podDir(w.key)); err != nil {
		w.log.Warn("remove pod files", "err", err)
	}
	w.releaseVolumes()
	if err := os.RemoveAll(w.env.logDir(w.key)); err != nil {
		w.log.Warn("remove pod logs", "err", err)
	}
	w.phase = ordov1.PodPhase_POD_PHASE_GONE
	w.publish()
	w.log.Info("pod gone")
}

// status is the pod's status as the worker sees it now.
func (w *podWorker) status() *ordov1.PodStatus {
	st := &ordov1.PodStatus{
		Phase:    w.phase,
		PodIp:    w.netns.IP,
		HostIp:   w.env.nodeIP,
		ExitCode: w.exitCode,
	}
	if w.phase == ordov1.PodPhase_POD_PHASE_PENDING {
		st.Reason, st.Message = w.reason, w.message
	}
	ready := w.phase == ordov1.PodPhase_POD_PHASE_RUNNING && len(w.ctrs) > w.nInit
	for _, c := range w.ctrs {
		cs := &ordov1.ContainerStatus{
			Name:         c.spec.GetName(),
			ContainerId:  c.id,
			Ready:        c.ready(),
			Running:      c.running,
			RestartCount: c.restarts,
			LastExitCode: c.lastExit,
			Reason:       c.reason,
			Message:      c.msg,
		}
		if c.running {
			cs.StartedTime = timestamppb.New(c.startedAt)
		}
		st.Restarts += c.restarts
		if c.kind != appContainer {
			st.InitContainers = append(st.InitContainers, cs)
			// A sidecar's readiness counts towards the pod's, as in Kubernetes.
			ready = ready && (c.kind != sidecar || c.ready())
			continue
		}
		st.Containers = append(st.Containers, cs)
		ready = ready && c.ready()
		if w.phase == ordov1.PodPhase_POD_PHASE_RUNNING && !c.running && st.Reason == "" {
			st.Reason, st.Message = c.reason, c.msg
		}
	}
	if w.initializing {
		st.Reason, st.Message = w.initReason()
	}
	if w.phase == ordov1.PodPhase_POD_PHASE_GONE || w.phase == ordov1.PodPhase_POD_PHASE_TERMINATING {
		st.Containers, st.InitContainers = nil, nil
		st.PodIp = ""
	}
	st.Ready = ready
	if ready && !w.wasReady {
		w.readyTime = time.Now()
	}
	w.wasReady = ready
	if !w.startedTime.IsZero() {
		st.StartedTime = timestamppb.New(w.startedTime)
	}
	if !w.readyTime.IsZero() {
		st.ReadyTime = timestamppb.New(w.readyTime)
	}
	return st
}

// publish reports the pod's status when it changed since the last report.
// warn sends the scheduler a warning about the pod, with its status as it
// is; the scheduler records it as an event.
func (w *podWorker) warn(msg string) {
	w.log.Warn(msg)
	st := proto.Clone(w.status()).(*ordov1.PodStatus)
	st.ObservedTime = timestamppb.Now()
	w.env.report(&ordov1.PodStatusReport{Name: w.name, Namespace: w.namespace, Epoch: w.epoch, Status: st, Warnings: []string{msg}})
}

func (w *podWorker) publish() {
	st := w.status()
	if w.last != nil && proto.Equal(st, w.last) {
		return
	}
	w.last = st
	out := proto.Clone(st).(*ordov1.PodStatus)
	out.ObservedTime = timestamppb.Now()
	w.env.report(&ordov1.PodStatusReport{Name: w.name, Namespace: w.namespace, Epoch: w.epoch, Status: out})
}
