package agent

import (
	"context"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// containerArgs applies Kubernetes' rule: command replaces the image's
// entrypoint (and drops its cmd), args replace the image's cmd.
func containerArgs(entrypoint, cmd, command, args []string) []string {
	var out []string
	switch {
	case len(command) > 0:
		out = append(out, command...)
		out = append(out, args...)
	case len(args) > 0:
		out = append(out, entrypoint...)
		out = append(out, args...)
	default:
		out = append(out, entrypoint...)
		out = append(out, cmd...)
	}
	return out
}

// WithCommandArgs sets the process arguments from the image's entrypoint and cmd
// and the container's command and args.
func WithCommandArgs(entrypoint, cmd, command, args []string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		s.Process.Args = containerArgs(entrypoint, cmd, command, args)
		return nil
	}
}

// WithWorkingDir sets the working directory when dir is not empty.
func WithWorkingDir(dir string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if dir == "" {
			return nil
		}
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		s.Process.Cwd = dir
		return nil
	}
}

// WithNetNSPath joins the network namespace at path (the pod's). An empty path
// leaves the spec alone.
func WithNetNSPath(path string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if path == "" {
			return nil
		}
		return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: path})(ctx, c, ctr, s)
	}
}

// WithReadOnlyFiles bind-mounts host files read-only into the container
// (destination -> source), replacing mounts with the same destination.
func WithReadOnlyFiles(files map[string]string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		dests := make([]string, 0, len(files))
		for d := range files {
			dests = append(dests, d)
		}
		sort.Strings(dests)
		for _, d := range dests {
			m := specs.Mount{Destination: d, Type: "bind", Source: files[d], Options: []string{"rbind", "ro"}}
			replaced := false
			for i := range s.Mounts {
				if s.Mounts[i].Destination == d {
					s.Mounts[i] = m
					replaced = true
				}
			}
			if !replaced {
				s.Mounts = append(s.Mounts, m)
			}
		}
		return nil
	}
}

// WithPodEnv sets HOSTNAME to the pod name and then the container's env, each
// replacing a variable of the same name (the image's included).
func WithPodEnv(hostname string, env []string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		if hostname != "" {
			s.Process.Env = mergeEnv(s.Process.Env, []string{"HOSTNAME=" + hostname})
		}
		s.Process.Env = mergeEnv(s.Process.Env, env)
		return nil
	}
}

// mergeEnv sets each KEY=VALUE of overrides in base: in place when base has the
// key, appended otherwise; a later override of a key wins.
func mergeEnv(base, overrides []string) []string {
	out := append([]string(nil), base...)
	idx := make(map[string]int, len(out))
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		idx[k] = i
	}
	for _, kv := range overrides {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}
