package main

import (
	"github.com/ordoproject/ordo/agent"
	"github.com/ordoproject/ordo/volumes"
)

// newVolumeManager keeps the node's emptyDir volumes and NFS mounts under the
// agent's state directory and mounts NFS exports with the kernel's client.
// cfg must have defaults applied.
func newVolumeManager(cfg agent.Config) *volumes.Manager {
	return volumes.NewManager(cfg.StateDir, &volumes.KernelMounter{}, cfg.Logger.With("node", cfg.NodeName))
}
