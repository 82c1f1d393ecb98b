package agent

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WithSecurity applies a container's effective security context, in the order
// the settings depend on each other: user and groups, privileges,
// capabilities, root filesystem, no_new_privs, seccomp (whose default profile
// follows the capabilities), and last the runAsNonRoot check of the user the
// container ends up with (the image's when runAsUser is unset).
func WithSecurity(sec Security, container string) oci.SpecOpts {
	return oci.Compose(
		WithRunAs(sec.RunAsUser, sec.RunAsGroup),
		WithSupplementalGroups(sec.SupplementalGroups),
		WithPrivileged(sec.Privileged),
		WithCapabilities(sec.CapAdd, sec.CapDrop, sec.Privileged),
		WithReadOnlyRootFS(sec.ReadOnlyRootFS),
		WithNoNewPrivileges(sec.AllowPrivilegeEscalation, sec.Privileged),
		WithSeccompProfile(sec.SeccompProfile, sec.Privileged),
		WithRunAsNonRoot(sec.RunAsNonRoot, container),
	)
}

func ensureProcess(s *oci.Spec) {
	if s.Process == nil {
		s.Process = &specs.Process{}
	}
}

func ensureLinux(s *oci.Spec) {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
}

// WithRunAs sets the process's user and group. With a user but no group the
// group is the user's primary group in the image's /etc/passwd (0 when it has
// none), as with Kubernetes on containerd; with a group but no user the
// image's user keeps running, in that group.
func WithRunAs(uid, gid *int64) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if uid == nil && gid == nil {
			return nil
		}
		ensureProcess(s)
		if uid != nil {
			if *uid < 0 || *uid > 1<<31-1 {
				return &ConfigError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("runAsUser %d is out of range", *uid)}
			}
			if gid == nil {
				if err := oci.WithUserID(uint32(*uid))(ctx, c, ctr, s); err != nil {
					return fmt.Errorf("look up user %d in the image: %w", *uid, err)
				}
				return nil
			}
			// The image user's groups are not the new user's.
			s.Process.User.UID = uint32(*uid)
			s.Process.User.AdditionalGids = nil
		}
		if *gid < 0 || *gid > 1<<31-1 {
			return &ConfigError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("runAsGroup %d is out of range", *gid)}
		}
		s.Process.User.GID = uint32(*gid)
		s.Process.User.AdditionalGids = mergeGIDs([]uint32{uint32(*gid)}, s.Process.User.AdditionalGids)
		return nil
	}
}

// mergeGIDs is a followed by the groups of b it does not have.
func mergeGIDs(a, b []uint32) []uint32 {
	out := append([]uint32(nil), a...)
	for _, g := range b {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// WithSupplementalGroups adds groups (the pod's supplementalGroups and its
// fsGroup) to the process's additional groups.
func WithSupplementalGroups(groups []int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if len(groups) == 0 {
			return nil
		}
		ensureProcess(s)
		var gids []uint32
		for _, g := range groups {
			if g < 0 || g > 1<<31-1 {
				return &ConfigError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("supplemental group %d is out of range", g)}
			}
			gids = append(gids, uint32(g))
		}
		s.Process.User.AdditionalGids = mergeGIDs(s.Process.User.AdditionalGids, gids)
		return nil
	}
}

// WithRunAsNonRoot refuses (a *ConfigError) a container that would run as
// user 0 when the pod or container asks for runAsNonRoot.
func WithRunAsNonRoot(nonRoot bool, container string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if !nonRoot {
			return nil
		}
		if s.Process == nil || s.Process.User.UID == 0 {
			return &ConfigError{Reason: "CreateContainerConfigError",
				Message: fmt.Sprintf("container has runAsNonRoot and image will run as root (container: %s)", container)}
		}
		return nil
	}
}

// WithPrivileged makes a privileged container: every capability, every host
// device, no masked or read-only paths, writable /sys and cgroupfs, no seccomp.
func WithPrivileged(privileged bool) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if !privileged {
			return nil
		}
		ensureProcess(s)
		ensureLinux(s)
		return oci.Compose(
			oci.WithPrivileged,
			oci.WithHostDevices,
			oci.WithAllDevicesAllowed,
		)(ctx, c, ctr, s)
	}
}

// capName is a capability as the OCI spec names it: "net_admin" -> "CAP_NET_ADMIN".
func capName(n string) string {
	n = strings.ToUpper(strings.TrimSpace(n))
	if n == "ALL" || strings.HasPrefix(n, "CAP_") {
		return n
	}
	return "CAP_" + n
}

// WithCapabilities drops and then adds capabilities (names with or without
// CAP_, any case; "ALL" drops or adds every capability) in the bounding,
// effective and permitted sets, as Kubernetes does. A privileged container
// keeps all of them.
func WithCapabilities(add, drop []string, privileged bool) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if privileged || (len(add) == 0 && len(drop) == 0) {
			return nil
		}
		ensureProcess(s)
		if s.Process.Capabilities == nil {
			s.Process.Capabilities = &specs.LinuxCapabilities{}
		}
		caps := append([]string(nil), s.Process.Capabilities.Bounding...)
		for _, d := range drop {
			d = capName(d)
			if d == "ALL" {
				caps = nil
				continue
			}
			caps = slices.DeleteFunc(caps, func(c string) bool { return c == d })
		}
		for _, a := range add {
			a = capName(a)
			if a == "ALL" {
				caps = mergeCaps(caps, allCapabilities())
				continue
			}
			caps = mergeCaps(caps, []string{a})
		}
		pc := s.Process.Capabilities
		pc.Bounding = caps
		pc.Effective = append([]string(nil), caps...)
		pc.Permitted = append([]string(nil), caps...)
		return nil
	}
}

func mergeCaps(a, b []string) []string {
	for _, c := range b {
		if !slices.Contains(a, c) {
			a = append(a, c)
		}
	}
	return a
}

// allCapabilities are the capabilities of the agent's own process: every one
// the kernel has when it runs as root.
func allCapabilities() []string {
	var s oci.Spec
	if err := oci.WithAllCurrentCapabilities(context.Background(), nil, nil, &s); err != nil || s.Process == nil || s.Process.Capabilities == nil {
		return nil
	}
	caps := append([]string(nil), s.Process.Capabilities.Bounding...)
	sort.Strings(caps)
	return caps
}

// WithReadOnlyRootFS mounts the container's root filesystem read-only.
func WithReadOnlyRootFS(ro bool) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if !ro {
			return nil
		}
		if s.Root == nil {
			s.Root = &specs.Root{}
		}
		s.Root.Readonly = true
		return nil
	}
}

// WithNoNewPrivileges sets no_new_privs when privilege escalation is
// explicitly disallowed, and clears it otherwise (Kubernetes' default, which
// lets setuid programs such as su and sudo work). Privileged containers may
// always escalate.
func WithNoNewPrivileges(allow *bool, privileged bool) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		ensureProcess(s)
		s.Process.NoNewPrivileges = !privileged && allow != nil && !*allow
		return nil
	}
}

// WithSeccompProfile applies a seccomp profile: RuntimeDefault is containerd's
// default profile (fitted to the container's capabilities, so it must come
// after them), Unconfined and "" none. Privileged containers get none.
func WithSeccompProfile(profile string, privileged bool) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		switch {
		case privileged || profile == "" || profile == "Unconfined":
			if s.Linux != nil {
				s.Linux.Seccomp = nil
			}
			return nil
		case profile == "RuntimeDefault":
			ensureLinux(s)
			ensureProcess(s)
			if s.Process.Capabilities == nil {
				s.Process.Capabilities = &specs.LinuxCapabilities{}
			}
			s.Linux.Seccomp = seccomp.DefaultProfile(s)
			return nil
		default:
			return &ConfigError{Reason: "CreateContainerConfigError",
				Message: fmt.Sprintf("seccomp profile %q is not supported (RuntimeDefault or Unconfined)", profile)}
		}
	}
}

// WithSysctls sets namespaced kernel parameters (checked by checkSysctls).
func WithSysctls(sysctls map[string]string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if len(sysctls) == 0 {
			return nil
		}
		ensureLinux(s)
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for k, v := range sysctls {
			s.Linux.Sysctl[k] = v
		}
		return nil
	}
}

// WithPIDNamespace joins the PID namespace at path (the pod's shared one). An
// empty path leaves the spec alone.
func WithPIDNamespace(path string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if path == "" {
			return nil
		}
		return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.PIDNamespace, Path: path})(ctx, c, ctr, s)
	}
}
