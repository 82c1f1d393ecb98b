package agent

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

// applyErr applies opts and returns the first error.
func applyErr(s *oci.Spec, opts ...oci.SpecOpts) error {
	for _, o := range opts {
		if err := o(nil, nil, nil, s); err != nil {
			return err
		}
	}
	return nil
}

func TestWithRunAsOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithRunAs(nil, nil))
	if s.Process != nil {
		t.Fatal("no user changed the spec")
	}
	apply(t, &s, WithRunAs(ptr[int64](1000), ptr[int64](2000)))
	if u := s.Process.User; u.UID != 1000 || u.GID != 2000 || !slices.Equal(u.AdditionalGids, []uint32{2000}) {
		t.Errorf("user = %+v", u)
	}
	// A group alone keeps the user.
	s = oci.Spec{Process: &specs.Process{User: specs.User{UID: 7}}}
	apply(t, &s, WithRunAs(nil, ptr[int64](3)))
	if u := s.Process.User; u.UID != 7 || u.GID != 3 {
		t.Errorf("group only: %+v", u)
	}
	// A user alone takes its primary group from the image's /etc/passwd.
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0::/root:/bin/sh\npg:x:999:998::/var/lib/pg:/bin/sh\n"), 0o644)
	s = oci.Spec{Root: &specs.Root{Path: root}}
	apply(t, &s, WithRunAs(ptr[int64](999), nil))
	if u := s.Process.User; u.UID != 999 || u.GID != 998 {
		t.Errorf("user from passwd: %+v", u)
	}
	s = oci.Spec{Root: &specs.Root{Path: root}}
	apply(t, &s, WithRunAs(ptr[int64](4242), nil))
	if u := s.Process.User; u.UID != 4242 || u.GID != 0 {
		t.Errorf("user not in passwd: %+v", u)
	}
	var ce *ConfigError
	if err := applyErr(&oci.Spec{}, WithRunAs(ptr[int64](-1), nil)); !errors.As(err, &ce) {
		t.Errorf("negative user: %v", err)
	}
}

func TestWithSupplementalGroupsOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithSupplementalGroups(nil))
	if s.Process != nil {
		t.Fatal("no groups changed the spec")
	}
	apply(t, &s, WithSupplementalGroups([]int64{10, 20}), WithSupplementalGroups([]int64{20, 30}))
	if got := s.Process.User.AdditionalGids; !slices.Equal(got, []uint32{10, 20, 30}) {
		t.Errorf("groups = %v", got)
	}
}

func TestWithRunAsNonRootOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithRunAsNonRoot(false, "app"))
	err := applyErr(&s, WithRunAsNonRoot(true, "app"))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Reason != "CreateContainerConfigError" ||
		ce.Message != "container has runAsNonRoot and image will run as root (container: app)" {
		t.Fatalf("root with runAsNonRoot: %v", err)
	}
	s = oci.Spec{Process: &specs.Process{User: specs.User{UID: 1000}}}
	apply(t, &s, WithRunAsNonRoot(true, "app"))
}

func TestWithPrivilegedOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithPrivileged(false))
	if s.Process != nil || s.Linux != nil {
		t.Fatal("not privileged changed the spec")
	}
	s = oci.Spec{Linux: &specs.Linux{MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"}}}
	apply(t, &s, WithPrivileged(true))
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 || s.Linux.Seccomp != nil {
		t.Errorf("privileged keeps masks: %+v", s.Linux)
	}
	if !slices.Contains(s.Process.Capabilities.Bounding, "CAP_SYS_ADMIN") {
		t.Errorf("privileged capabilities = %v", s.Process.Capabilities.Bounding)
	}
	if len(s.Linux.Resources.Devices) == 0 || !s.Linux.Resources.Devices[len(s.Linux.Resources.Devices)-1].Allow {
		t.Errorf("privileged devices = %+v", s.Linux.Resources.Devices)
	}
}

func TestWithCapabilitiesOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithCapabilities(nil, nil, false))
	if s.Process != nil {
		t.Fatal("no capabilities changed the spec")
	}
	apply(t, &s, WithCapabilities([]string{"net_admin", "CAP_SYS_TIME"}, nil, false))
	if got := s.Process.Capabilities.Bounding; !slices.Equal(got, []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}) {
		t.Errorf("added to an empty spec: %v", got)
	}
	base := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}
	s = oci.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: base, Effective: base, Permitted: base}}}
	apply(t, &s, WithCapabilities([]string{"NET_BIND_SERVICE"}, []string{"net_raw", "CAP_KILL"}, false))
	want := []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
	if c := s.Process.Capabilities; !slices.Equal(c.Bounding, want) || !slices.Equal(c.Effective, want) || !slices.Equal(c.Permitted, want) {
		t.Errorf("drop and add: %+v", c)
	}
	apply(t, &s, WithCapabilities([]string{"CHOWN"}, []string{"ALL"}, false))
	if got := s.Process.Capabilities.Bounding; !slices.Equal(got, []string{"CAP_CHOWN"}) {
		t.Errorf("drop ALL, add CHOWN: %v", got)
	}
	apply(t, &s, WithCapabilities([]string{"all"}, nil, false))
	if got := s.Process.Capabilities.Bounding; !slices.Contains(got, "CAP_SYS_ADMIN") || !slices.Contains(got, "CAP_CHOWN") {
		t.Errorf("add ALL: %v", got)
	}
	// Privileged keeps every capability whatever the lists say.
	s = oci.Spec{}
	apply(t, &s, WithCapabilities(nil, []string{"ALL"}, true))
	if s.Process != nil {
		t.Error("privileged container's capabilities changed")
	}
}

func TestWithReadOnlyRootFSOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithReadOnlyRootFS(false))
	if s.Root != nil {
		t.Fatal("not read-only changed the spec")
	}
	apply(t, &s, WithReadOnlyRootFS(true))
	if !s.Root.Readonly {
		t.Error("root not read-only")
	}
}

func TestWithNoNewPrivilegesOnEmptySpec(t *testing.T) {
	for _, c := range []struct {
		allow      *bool
		privileged bool
		want       bool
	}{
		{nil, false, false}, {ptr(true), false, false}, {ptr(false), false, true}, {ptr(false), true, false},
	} {
		s := oci.Spec{Process: &specs.Process{NoNewPrivileges: !c.want}}
		apply(t, &s, WithNoNewPrivileges(c.allow, c.privileged))
		if s.Process.NoNewPrivileges != c.want {
			t.Errorf("allow %v privileged %v: no_new_privs %v", c.allow, c.privileged, s.Process.NoNewPrivileges)
		}
	}
	var s oci.Spec
	apply(t, &s, WithNoNewPrivileges(ptr(false), false))
	if !s.Process.NoNewPrivileges {
		t.Error("empty spec: no_new_privs not set")
	}
}

func TestWithSeccompProfileOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithSeccompProfile("", false))
	if s.Linux != nil {
		t.Fatal("no profile changed the spec")
	}
	apply(t, &s, WithSeccompProfile("RuntimeDefault", false))
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno || len(s.Linux.Seccomp.Syscalls) == 0 {
		t.Fatalf("RuntimeDefault: %+v", s.Linux.Seccomp)
	}
	apply(t, &s, WithSeccompProfile("Unconfined", false))
	if s.Linux.Seccomp != nil {
		t.Error("Unconfined kept a profile")
	}
	apply(t, &s, WithSeccompProfile("RuntimeDefault", true))
	if s.Linux.Seccomp != nil {
		t.Error("privileged got a profile")
	}
	var ce *ConfigError
	if err := applyErr(&oci.Spec{}, WithSeccompProfile("Localhost", false)); !errors.As(err, &ce) || !strings.Contains(ce.Message, "Localhost") {
		t.Errorf("Localhost: %v", err)
	}
}

func TestWithSysctlsOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithSysctls(nil))
	if s.Linux != nil {
		t.Fatal("no sysctls changed the spec")
	}
	apply(t, &s, WithSysctls(map[string]string{"kernel.shmmax": "1000", "net.core.somaxconn": "1024"}))
	if !reflect.DeepEqual(s.Linux.Sysctl, map[string]string{"kernel.shmmax": "1000", "net.core.somaxconn": "1024"}) {
		t.Errorf("sysctl = %v", s.Linux.Sysctl)
	}
}

func TestWithPIDNamespaceOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithPIDNamespace(""))
	if s.Linux != nil {
		t.Fatal("no path changed the spec")
	}
	apply(t, &s, WithPIDNamespace("/proc/42/ns/pid"))
	if want := []specs.LinuxNamespace{{Type: specs.PIDNamespace, Path: "/proc/42/ns/pid"}}; !reflect.DeepEqual(s.Linux.Namespaces, want) {
		t.Errorf("namespaces = %+v", s.Linux.Namespaces)
	}
}

func TestWithSecurityOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithSecurity(Security{}, "app"))
	if s.Process == nil || s.Process.NoNewPrivileges || s.Root != nil || (s.Linux != nil && s.Linux.Seccomp != nil) {
		t.Errorf("empty security context: %+v", s)
	}
	s = oci.Spec{}
	apply(t, &s, WithSecurity(Security{
		RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](1000), RunAsNonRoot: true, SupplementalGroups: []int64{2000},
		CapDrop: []string{"ALL"}, ReadOnlyRootFS: true, AllowPrivilegeEscalation: ptr(false), SeccompProfile: "RuntimeDefault",
	}, "app"))
	if u := s.Process.User; u.UID != 1000 || u.GID != 1000 || !slices.Equal(u.AdditionalGids, []uint32{1000, 2000}) {
		t.Errorf("user = %+v", u)
	}
	if len(s.Process.Capabilities.Bounding) != 0 || !s.Root.Readonly || !s.Process.NoNewPrivileges || s.Linux.Seccomp == nil {
		t.Errorf("spec = %+v %+v", s.Process, s.Linux)
	}
}
