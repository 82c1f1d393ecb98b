package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

// configStore holds the ConfigMaps and Secrets the scheduler sent with the
// latest desired pods: the ones the node's pods name.
type configStore struct {
	mu      sync.Mutex
	maps    map[string]*ordov1.ConfigMap // by namespace/name
	secrets map[string]*ordov1.Secret
	ch      chan struct{} // closed (and replaced) on every change
}

func newConfigStore() *configStore {
	return &configStore{maps: map[string]*ordov1.ConfigMap{}, secrets: map[string]*ordov1.Secret{}, ch: make(chan struct{})}
}

func objectKey(md *ordov1.ObjectMeta) string {
	return identity.NamespaceOr(md.GetNamespace()) + "/" + md.GetName()
}

// set replaces the content of the store and reports whether it changed;
// on a change, the channels handed out by changed are closed.
func (s *configStore) set(cms []*ordov1.ConfigMap, secs []*ordov1.Secret) bool {
	maps := make(map[string]*ordov1.ConfigMap, len(cms))
	for _, cm := range cms {
		maps[objectKey(cm.GetMetadata())] = cm
	}
	secrets := make(map[string]*ordov1.Secret, len(secs))
	for _, sec := range secs {
		secrets[objectKey(sec.GetMetadata())] = sec
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	same := len(maps) == len(s.maps) && len(secrets) == len(s.secrets)
	for k, cm := range maps {
		same = same && proto.Equal(cm, s.maps[k])
	}
	for k, sec := range secrets {
		same = same && proto.Equal(sec, s.secrets[k])
	}
	if same {
		return false
	}
	s.maps, s.secrets = maps, secrets
	close(s.ch)
	s.ch = make(chan struct{})
	return true
}

// changed is closed at the next change of the store.
func (s *configStore) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// namespace looks objects up in one namespace.
func (s *configStore) namespace(ns string) configSource { return nsConfig{s, identity.NamespaceOr(ns)} }

type nsConfig struct {
	s  *configStore
	ns string
}

func (n nsConfig) configMap(name string) *ordov1.ConfigMap {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	return n.s.maps[n.ns+"/"+name]
}

func (n nsConfig) secret(name string) *ordov1.Secret {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	return n.s.secrets[n.ns+"/"+name]
}

// ApplyDesiredPods takes a DesiredPods message: first its ConfigMaps and
// Secrets (running pods' volumes from them are rewritten, containers
// waiting for them are retried), then its pods (see ApplyDesired).
func (a *Agent) ApplyDesiredPods(d *ordov1.DesiredPods) {
	if a.env.config.set(d.GetConfigMaps(), d.GetSecrets()) {
		a.log.Debug("config data changed", "config_maps", len(d.GetConfigMaps()), "secrets", len(d.GetSecrets()))
	}
	a.ApplyDesired(d.GetPods())
}

// podConfig is a pod worker's state for environments and config volumes.
type podConfig struct {
	env map[string]containerEnv // by container ID, once resolved

	// The goroutine rewriting the config volumes when the data changes.
	stopUpdates chan struct{}
	updatesDone chan struct{}
}

// reasonCreateContainerConfigError is a container's reason while its
// environment cannot be built (a ConfigMap, Secret or key is missing).
const reasonCreateContainerConfigError = "CreateContainerConfigError"

// podInfo is what the downward API reads about the worker's pod; the pod's
// address is known once its network is set up.
func (w *podWorker) podInfo() podInfo {
	info := podInfo{pod: w.pod, nodeName: w.env.nodeName, node: w.env.resources}
	if w.netns.IP != "" {
		info.podIPs = []string{w.netns.IP}
	}
	if w.env.nodeIP != "" {
		info.hostIPs = []string{w.env.nodeIP}
	}
	return info
}

func (w *podWorker) configSource() configSource {
	return w.env.config.namespace(w.namespace)
}

// resolveContainer builds container c's environment and command line. A
// container found in containerd keeps the one it was created with.
func (w *podWorker) resolveContainer(c *ctrState) error {
	for _, f := range w.found {
		if f.ID == c.id {
			return nil
		}
	}
	ce, err := resolveEnv(c.spec, w.podInfo(), w.configSource())
	if err != nil {
		return err
	}
	for _, msg := range ce.Warnings {
		w.log.Warn("environment variables skipped", "container", c.spec.GetName(), "reason", "InvalidEnvironmentVariableNames", "message", msg)
	}
	if w.cfg.env == nil {
		w.cfg.env = map[string]containerEnv{}
	}
	w.cfg.env[c.id] = ce
	return nil
}

// containerEnv is container c's environment, command and args: as resolved
// by resolveContainer, else as written.
func (w *podWorker) containerEnv(c *ctrState) (env, command, args []string) {
	if ce, ok := w.cfg.env[c.id]; ok {
		return ce.Env, ce.Command, ce.Args
	}
	for _, e := range c.spec.GetEnv() {
		env = append(env, e.GetName()+"="+e.GetValue())
	}
	return env, c.spec.GetCommand(), c.spec.GetArgs()
}

// configNotReady reports that container c cannot be created for want of
// config data and waits for a retry: until the data changes or a back-off
// passes. It returns false when ctx ends first.
func (w *podWorker) configNotReady(ctx context.Context, c *ctrState, attempt int, err error) bool {
	changed := w.env.config.changed()
	c.reason, c.msg = reasonCreateContainerConfigError, err.Error()
	w.reason, w.message = c.reason, c.msg
	w.log.Warn("container not started", "container", c.spec.GetName(), "reason", c.reason, "err", err)
	w.publish()
	t := time.NewTimer(backoff(attempt, 200*time.Millisecond, 30*time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-changed:
	case <-t.C:
	}
	return true
}

// configVolumesDir holds the pod's config volumes, one directory each.
func (e *podEnv) configVolumesDir(key string) string {
	return filepath.Join(e.stateDir, "config-volumes", key)
}

// writeConfigVolumes writes the files of the pod's config volumes. A volume
// whose data is missing fails the first time; once written, it keeps its
// last content (as the kubelet does) and the error is only logged.
func (w *podWorker) writeConfigVolumes(vols []*ordov1.ResolvedVolume) (map[string]volumes.Source, error) {
	root := filepath.Dir(w.env.configVolumesDir(w.key))
	// Not world-readable: Secrets are written here. Containers see the
	// volume directories themselves through their bind mounts.
	for _, d := range []string{root, w.env.configVolumesDir(w.key)} {
		if err := os.Mkdir(d, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if err := os.Chmod(d, 0o750); err != nil {
			return nil, err
		}
	}
	var fsGroup *int64
	if sc := w.pod.GetSpec().GetSecurityContext(); sc != nil && sc.FsGroup != nil {
		g := *sc.FsGroup
		fsGroup = &g
	}
	info, src := w.podInfo(), w.configSource()
	out := make(map[string]volumes.Source, len(vols))
	for _, v := range vols {
		name := v.GetName()
		if err := volumes.CheckName(name); err != nil {
			return nil, fmt.Errorf("volume %s: %w", name, err)
		}
		dir := filepath.Join(w.env.configVolumesDir(w.key), name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("volume %s: %w", name, err)
		}
		aw := &volumes.AtomicWriter{Dir: dir, FSGroup: fsGroup}
		payload, err := configVolumePayload(v, info, src)
		if err == nil {
			var changed bool
			if changed, err = aw.Write(payload); changed && err == nil {
				w.log.Info("config volume written", "volume", name, "files", len(payload))
			}
		}
		if err != nil {
			err = fmt.Errorf("MountVolume.SetUp failed for volume %q: %w", name, err)
			if !aw.HasData() {
				return nil, err
			}
			w.log.Warn("config volume not updated; it keeps its last content", "volume", name, "err", err)
		}
		out[name] = volumes.Source{Path: dir, ReadOnly: true}
	}
	return out, nil
}

// startConfigUpdates rewrites the pod's config volumes whenever the config
// data changes, from changed on (taken before the volumes were first
// written), until the worker stops it or its context ends.
func (w *podWorker) startConfigUpdates(vols []*ordov1.ResolvedVolume, changed <-chan struct{}) {
	var watched []*ordov1.ResolvedVolume
	for _, v := range vols {
		if namesConfigData(v) {
			watched = append(watched, v)
		}
	}
	if len(watched) == 0 || w.cfg.stopUpdates != nil {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	w.cfg.stopUpdates, w.cfg.updatesDone = stop, done
	ctx := w.ctx
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-changed:
			}
			changed = w.env.config.changed()
			if _, err := w.writeConfigVolumes(watched); err != nil {
				w.log.Warn("update config volumes", "err", err)
			}
		}
	}()
}

// releaseConfigVolumes stops the updates and removes the pod's config volumes.
func (w *podWorker) releaseConfigVolumes() {
	if w.cfg.stopUpdates != nil {
		close(w.cfg.stopUpdates)
		<-w.cfg.updatesDone
		w.cfg.stopUpdates, w.cfg.updatesDone = nil, nil
	}
	// RemoveAll does not follow the links inside.
	if err := os.RemoveAll(w.env.configVolumesDir(w.key)); err != nil {
		w.log.Warn("remove config volumes", "err", err)
	}
}
