package volumes

import (
	"context"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WithMounts adds a bind mount per entry (rbind; ro or rw), each replacing a
// mount with the same destination, in the order given.
func WithMounts(mounts []Mount) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		for _, m := range mounts {
			mode := "rw"
			if m.ReadOnly {
				mode = "ro"
			}
			sm := specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: []string{"rbind", "rprivate", mode}}
			replaced := false
			for i := range s.Mounts {
				if s.Mounts[i].Destination == m.Destination {
					s.Mounts[i] = sm
					replaced = true
				}
			}
			if !replaced {
				s.Mounts = append(s.Mounts, sm)
			}
		}
		return nil
	}
}
