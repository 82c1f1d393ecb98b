package agent

import (
	"context"
	"reflect"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func apply(t *testing.T, s *oci.Spec, opts ...oci.SpecOpts) {
	t.Helper()
	for _, o := range opts {
		if err := o(context.Background(), nil, &containers.Container{ID: "web-0_app"}, s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestContainerArgs(t *testing.T) {
	ep, cmd := []string{"/entry"}, []string{"serve", "--port=80"}
	cases := []struct {
		command, args, want []string
	}{
		{nil, nil, []string{"/entry", "serve", "--port=80"}},
		{[]string{"sh", "-c"}, nil, []string{"sh", "-c"}},
		{nil, []string{"debug"}, []string{"/entry", "debug"}},
		{[]string{"sh", "-c"}, []string{"echo hi"}, []string{"sh", "-c", "echo hi"}},
	}
	for _, c := range cases {
		if got := containerArgs(ep, cmd, c.command, c.args); !reflect.DeepEqual(got, c.want) {
			t.Errorf("command %v args %v: %v, want %v", c.command, c.args, got, c.want)
		}
	}
}

func TestWithCommandArgsOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithCommandArgs(nil, []string{"sh"}, nil, []string{"-c", "sleep 1"}))
	if want := []string{"-c", "sleep 1"}; !reflect.DeepEqual(s.Process.Args, want) {
		t.Errorf("args = %v, want %v", s.Process.Args, want)
	}
}

func TestWithWorkingDirOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithWorkingDir(""))
	if s.Process != nil {
		t.Error("an empty working dir changed the spec")
	}
	apply(t, &s, WithWorkingDir("/data"))
	if s.Process.Cwd != "/data" {
		t.Errorf("cwd = %q", s.Process.Cwd)
	}
}

func TestWithNetNSPathOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithNetNSPath(""))
	if s.Linux != nil {
		t.Error("an empty netns path changed the spec")
	}
	apply(t, &s, WithNetNSPath("/run/ordo-agent/netns/web-0"), WithNetNSPath("/run/ordo-agent/netns/web-1"))
	want := []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/run/ordo-agent/netns/web-1"}}
	if !reflect.DeepEqual(s.Linux.Namespaces, want) {
		t.Errorf("namespaces = %+v, want %+v", s.Linux.Namespaces, want)
	}
}

func TestWithReadOnlyFilesOnEmptySpec(t *testing.T) {
	s := oci.Spec{Mounts: []specs.Mount{{Destination: "/etc/hosts", Type: "bind", Source: "/old"}}}
	apply(t, &s, WithReadOnlyFiles(map[string]string{"/etc/hostname": "/state/hostname", "/etc/hosts": "/state/hosts"}))
	want := []specs.Mount{
		{Destination: "/etc/hosts", Type: "bind", Source: "/state/hosts", Options: []string{"rbind", "ro"}},
		{Destination: "/etc/hostname", Type: "bind", Source: "/state/hostname", Options: []string{"rbind", "ro"}},
	}
	if !reflect.DeepEqual(s.Mounts, want) {
		t.Errorf("mounts = %+v, want %+v", s.Mounts, want)
	}
	var empty oci.Spec
	apply(t, &empty, WithReadOnlyFiles(map[string]string{"/etc/hosts": "/h"}))
	if len(empty.Mounts) != 1 || empty.Mounts[0].Options[1] != "ro" {
		t.Errorf("mounts on an empty spec = %+v", empty.Mounts)
	}
}

func TestWithPodEnvOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithPodEnv("web-0", []string{"A=1", "HOSTNAME=override"}))
	if want := []string{"HOSTNAME=override", "A=1"}; !reflect.DeepEqual(s.Process.Env, want) {
		t.Errorf("env = %v, want %v", s.Process.Env, want)
	}
	s = oci.Spec{Process: &specs.Process{Env: []string{"PATH=/bin", "HOSTNAME=image"}}}
	apply(t, &s, WithPodEnv("web-0", nil))
	if want := []string{"PATH=/bin", "HOSTNAME=web-0"}; !reflect.DeepEqual(s.Process.Env, want) {
		t.Errorf("env = %v, want %v", s.Process.Env, want)
	}
}
