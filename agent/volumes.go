package agent

import (
	"context"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

// VolumeManager makes pod volumes available on the node.
type VolumeManager interface {
	// Prepare makes pod's volumes available; the result is where each is, by name.
	Prepare(ctx context.Context, pod string, vols []*ordov1.ResolvedVolume) (map[string]volumes.Source, error)
	// Release drops what Prepare set up for pod.
	Release(pod string) error
	// Cleanup removes the data of a released local volume.
	Cleanup(path string) error
}

var _ VolumeManager = (*volumes.Manager)(nil)

// reasonFailedMount is the pod's reason while its volumes cannot be prepared.
const reasonFailedMount = "FailedMount"

// prepareVolumes makes the pod's resolved volumes available, retrying with
// back-off while one cannot be (the pod stays Pending with reason
// FailedMount and what to fix; a change of the config data retries at
// once). The volume manager prepares the storage volumes; the agent writes
// configMap, secret, downwardAPI and projected volumes itself and keeps
// them up to date. It returns false when the pod is stopped or ctx ends
// first.
func (w *podWorker) prepareVolumes(ctx context.Context) bool {
	rvs := w.pod.GetResolvedVolumes()
	var storage, config []*ordov1.ResolvedVolume
	for _, v := range rvs {
		if isConfigVolume(v) {
			config = append(config, v)
		} else {
			storage = append(storage, v)
		}
	}
	if len(config) == 0 && (len(storage) == 0 || w.env.vols == nil) {
		return true
	}
	for attempt := 1; ; attempt++ {
		changed := w.env.config.changed()
		src, err := w.prepareStorage(ctx, storage)
		if err == nil && len(config) > 0 {
			var cs map[string]volumes.Source
			if cs, err = w.writeConfigVolumes(config); err == nil {
				if src == nil {
					src = map[string]volumes.Source{}
				}
				for k, v := range cs {
					src[k] = v
				}
			}
		}
		if err == nil {
			w.volumes = src
			w.startConfigUpdates(config, changed)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		w.log.Warn("volumes not ready", "err", err)
		if w.reason != reasonFailedMount || w.message != err.Error() {
			w.reason, w.message = reasonFailedMount, err.Error()
			w.publish()
		}
		t := time.NewTimer(backoff(attempt, 200*time.Millisecond, 10*time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

func (w *podWorker) prepareStorage(ctx context.Context, rvs []*ordov1.ResolvedVolume) (map[string]volumes.Source, error) {
	if len(rvs) == 0 || w.env.vols == nil {
		return nil, nil
	}
	return w.env.vols.Prepare(ctx, w.key, rvs)
}

// mounts are container c's volume mounts. A mount whose volume the pod does
// not have is left out (the scheduler validates the names).
func (w *podWorker) mounts(c *ctrState) []volumes.Mount {
	var out []volumes.Mount
	for _, m := range c.spec.GetVolumeMounts() {
		ms, err := volumes.ContainerMounts(&ordov1.Container{Name: c.spec.GetName(), VolumeMounts: []*ordov1.VolumeMount{m}}, w.volumes)
		if err != nil {
			w.log.Warn("volume mount skipped", "container", c.spec.GetName(), "err", err)
			continue
		}
		out = append(out, ms...)
	}
	return out
}

func (w *podWorker) releaseVolumes() {
	w.releaseConfigVolumes()
	if w.env.vols == nil {
		return
	}
	if err := w.env.vols.Release(w.key); err != nil {
		w.log.Warn("release volumes", "err", err)
	}
}

// cleanupVolume removes a released local volume's data and reports the result.
func (a *Agent) cleanupVolume(vc *ordov1.VolumeCleanup) {
	res := &ordov1.VolumeCleanupResult{PersistentVolume: vc.GetPersistentVolume(), Ok: true}
	if err := a.env.vols.Cleanup(vc.GetPath()); err != nil {
		res.Ok, res.Message = false, "remove data of volume "+vc.GetPersistentVolume()+": "+err.Error()
		a.log.Warn("volume cleanup failed", "volume", vc.GetPersistentVolume(), "path", vc.GetPath(), "err", err)
	} else {
		a.log.Info("volume data removed", "volume", vc.GetPersistentVolume(), "path", vc.GetPath())
	}
	a.mu.Lock()
	a.queue = append(a.queue, &ordov1.AgentMessage{Msg: &ordov1.AgentMessage_VolumeCleanup{VolumeCleanup: res}})
	a.mu.Unlock()
	select {
	case a.notify <- struct{}{}:
	default:
	}
}
