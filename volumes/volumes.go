// Package volumes turns a pod's resolved volumes into host directories and
// the OCI bind mounts that put them into its containers:
//
//	local / hostPath → the host path itself (it must exist; hostPath types
//	                   DirectoryOrCreate and FileOrCreate create it)
//	emptyDir         → <state-dir>/volumes/<pod>/<name>, removed with the pod
//	nfs              → the export mounted once per node under
//	                   <state-dir>/nfs/<pv>, shared by that node's pods,
//	                   unmounted when the last of them goes
//
// AtomicWriter writes the files of configMap, secret, downwardAPI and
// projected volumes (the agent computes their content) so that updates
// replace the whole set at once, as the kubelet does.
//
// Paths are checked: no ".." escapes, and no source inside the agent's own
// state directory.
package volumes

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Mount is one bind mount into a container.
type Mount struct {
	Source      string // host path
	Destination string // path in the container
	ReadOnly    bool
}

// Source is what a pod volume resolved to on the host.
type Source struct {
	Path     string
	ReadOnly bool
}

// CheckHostPath validates a host path a volume names: absolute, no "..", not
// "/", and not inside the agent's state directory.
func CheckHostPath(p, stateDir string) error {
	if !filepath.IsAbs(p) {
		return errdefs.Invalid("path", "%q must be absolute", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return errdefs.Invalid("path", "%q must not contain '..'", p)
		}
	}
	clean := filepath.Clean(p)
	if clean == "/" {
		return errdefs.Invalid("path", "the root directory cannot be a volume")
	}
	if stateDir != "" {
		sd := filepath.Clean(stateDir)
		if clean == sd || strings.HasPrefix(clean, sd+"/") || strings.HasPrefix(sd, clean+"/") {
			return errdefs.Invalid("path", "%q overlaps the agent's state directory %s", p, sd)
		}
	}
	return nil
}

// SubPath joins a volume mount's subPath to its volume's directory, refusing
// absolute subPaths and ".." anywhere in them.
func SubPath(base, sub string) (string, error) {
	if sub == "" {
		return base, nil
	}
	if filepath.IsAbs(sub) {
		return "", errdefs.Invalid("subPath", "%q must be relative", sub)
	}
	for _, part := range strings.Split(sub, "/") {
		if part == ".." {
			return "", errdefs.Invalid("subPath", "%q must not contain '..'", sub)
		}
	}
	return filepath.Join(base, filepath.Clean("/"+sub)), nil
}

// ContainerMounts are the bind mounts of container c given where the pod's
// volumes are on the host (by volume name). A mount naming a volume that is
// not there is an error.
func ContainerMounts(c *ordov1.Container, sources map[string]Source) ([]Mount, error) {
	var out []Mount
	for _, m := range c.GetVolumeMounts() {
		src, ok := sources[m.GetName()]
		if !ok {
			return nil, fmt.Errorf("container %s: volume mount %q names no volume of the pod: %w", c.GetName(), m.GetName(), errdefs.ErrInvalid)
		}
		p, err := SubPath(src.Path, m.GetSubPath())
		if err != nil {
			return nil, fmt.Errorf("container %s: volume mount %q: %w", c.GetName(), m.GetName(), err)
		}
		out = append(out, Mount{Source: p, Destination: filepath.Clean(m.GetMountPath()), ReadOnly: m.GetReadOnly() || src.ReadOnly})
	}
	return out, nil
}
