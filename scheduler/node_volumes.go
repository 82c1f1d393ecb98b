package scheduler

import (
	"log/slog"

	"google.golang.org/protobuf/proto"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
)

// Released local volumes with reclaim policy Delete are cleaned by the agent
// of the node that holds them: the scheduler sends VolumeCleanup while the
// volume waits for it (level-based: again on every new stream), and removes
// the volume once the agent reports success, or marks it Failed.

// cleanupNode is the node whose agent must clean m, or "".
func cleanupNode(m proto.Message) string {
	pv, ok := m.(*ordov1.PersistentVolume)
	if !ok || pv.GetStatus().GetReason() != reasonCleanup {
		return ""
	}
	return binding.PinnedNode(pv)
}

// sendCleanups sends node's agent a VolumeCleanup for every volume waiting
// for one that this stream has not sent yet.
func (n *nodeService) sendCleanups(stream ordov1.Node_ConnectServer, node string, sent map[string]bool) error {
	for _, pv := range n.store.PersistentVolumes() {
		name := pv.GetMetadata().GetName()
		if cleanupNode(pv) != node || sent[name] {
			continue
		}
		msg := &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_VolumeCleanup{VolumeCleanup: &ordov1.VolumeCleanup{
			PersistentVolume: name,
			Path:             pv.GetSpec().GetLocal().GetPath(),
		}}}
		if err := stream.Send(msg); err != nil {
			return err
		}
		sent[name] = true
	}
	return nil
}

// cleanupDone records an agent's VolumeCleanupResult.
func (n *nodeService) cleanupDone(log *slog.Logger, node string, r *ordov1.VolumeCleanupResult) {
	name := r.GetPersistentVolume()
	err := n.store.Update(func(tx *Tx) error {
		pv := tx.PersistentVolume(name)
		if pv == nil || cleanupNode(pv) != node {
			return nil
		}
		if r.GetOk() {
			log.Info("volume data removed; volume deleted", "volume", name, "node", node)
			if err := tx.DeletePersistentVolume(name); err != nil {
				return err
			}
			return tx.Record(KindPersistentVolume, "", name, "VolumeDeleted", "data of volume %s removed on %s; volume deleted", name, node)
		}
		v := proto.Clone(pv).(*ordov1.PersistentVolume)
		v.Status = &ordov1.PersistentVolumeStatus{Phase: binding.PhaseFailed, Reason: "VolumeFailedDelete", Message: r.GetMessage()}
		log.Warn("volume cleanup failed", "volume", name, "node", node, "err", r.GetMessage())
		if _, err := tx.PutPersistentVolume(v); err != nil {
			return err
		}
		return tx.Record(KindPersistentVolume, "", name, "VolumeFailedDelete", "%s", r.GetMessage())
	})
	if err != nil {
		log.Error("store volume cleanup result", "volume", name, "err", err)
	}
}

func equalResolved(a, b []*ordov1.ResolvedVolume) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
