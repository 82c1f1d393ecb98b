package agent

import (
	"context"
	"io"
	"syscall"
	"time"

	"github.com/ordoproject/ordo/volumes"
)

// Runtime runs the containers of pods. The pod supervisor consumes it; the
// containerd implementation is in runtime_containerd_linux.go.
type Runtime interface {
	// EnsureImage makes ref available locally (pulling it unless policy is
	// Never). Failures are *ImageError with a Kubernetes reason; warning,
	// when not empty, says what a person should know (the local copy ran
	// because the registry could not be reached).
	EnsureImage(ctx context.Context, ref, policy string) (warning string, err error)
	// Create creates the container unless a container with that ID exists.
	Create(ctx context.Context, cfg ContainerConfig) error
	// Start starts a new task of the container (deleting an old, stopped one) with
	// stdout and stderr appended to logPath; the channel reports the task's exit.
	Start(ctx context.Context, id, logPath string) (<-chan ExitStatus, error)
	// Attach watches the container's existing task. running is false when the
	// task does not exist or has stopped.
	Attach(ctx context.Context, id string) (running bool, exit <-chan ExitStatus, err error)
	// Exec runs args in the running container, writing its output to out, and
	// returns the exit code. ctx bounds the time it may take.
	Exec(ctx context.Context, id string, args []string, out io.Writer) (int, error)
	// SetLabels sets (adds or replaces) labels of the container.
	SetLabels(ctx context.Context, id string, labels map[string]string) error
	// Signal sends sig to the container's task.
	Signal(ctx context.Context, id string, sig syscall.Signal) error
	// Stop sends SIGTERM, waits up to grace, sends SIGKILL and deletes the task.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Remove deletes the container with its snapshot (and a leftover task).
	Remove(ctx context.Context, id string) error
	// List returns the containers this agent manages.
	List(ctx context.Context) ([]ContainerState, error)
}

// ContainerConfig describes one container of a pod.
type ContainerConfig struct {
	ID         string
	Image      string
	PullPolicy string
	Labels     map[string]string
	Command    []string // replaces the image's entrypoint when set
	Args       []string // replaces the image's cmd when set
	Env        []string // KEY=VALUE, after the image's env
	WorkingDir string
	Hostname   string
	NetNSPath  string
	// HostNetwork runs the container in the node's network namespace.
	HostNetwork bool
	// Files bind-mounted read-only into the container: destination -> host path.
	Files map[string]string
	// Mounts are the container's volume mounts.
	Mounts []volumes.Mount
	// Resources are the container's cgroup limits.
	Resources Resources
	// Security is the container's effective security context (the pod's
	// overridden by the container's).
	Security Security
	// Sysctls are the pod's namespaced kernel parameters.
	Sysctls map[string]string
	// PIDNSPath joins the PID namespace at that path (a pod sharing its
	// process namespace); empty: the container's own.
	PIDNSPath string
}

// Resources are a container's CPU and memory settings; 0 means none.
type Resources struct {
	CPULimitMillis   int64
	CPURequestMillis int64
	MemoryLimitBytes int64
}

// Security is a container's effective security context. Unset pointers keep
// the image's (user, group) or the runtime's (privilege escalation) default.
type Security struct {
	RunAsUser          *int64
	RunAsGroup         *int64
	RunAsNonRoot       bool
	SupplementalGroups []int64 // the pod's, with its fsGroup
	Privileged         bool
	CapAdd, CapDrop    []string
	ReadOnlyRootFS     bool
	// AllowPrivilegeEscalation false sets no_new_privs; unset and true
	// leave it off, as in Kubernetes.
	AllowPrivilegeEscalation *bool
	SeccompProfile           string // "", RuntimeDefault, Unconfined
}

// ExitStatus is how a task ended. Err is set when watching it failed (for
// example because the agent is shutting down); Code is then meaningless.
type ExitStatus struct {
	Code     int32
	ExitedAt time.Time
	Err      error
	// OOMKilled: the kernel's OOM killer ended the task (its cgroup's memory
	// limit was reached).
	OOMKilled bool
}

// ContainerState is a managed container as the runtime found it.
type ContainerState struct {
	ID      string
	Labels  map[string]string
	Running bool
}

// ImageError is a failure to make an image available.
type ImageError struct {
	Reason  string // ErrImagePull, ErrImageNeverPull, InvalidImageName
	Message string
}

func (e *ImageError) Error() string { return e.Reason + ": " + e.Message }

// ConfigError is a container the pod's spec does not allow to run as it is
// (runAsNonRoot with a root user, a forbidden sysctl, ...).
type ConfigError struct {
	Reason  string // CreateContainerConfigError, SysctlForbidden
	Message string
}

func (e *ConfigError) Error() string { return e.Reason + ": " + e.Message }
