package agent

import (
	"fmt"
	"strings"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// effectiveSecurity is a container's security context: its own settings,
// falling back to the pod's for the fields both have.
func effectiveSecurity(pod *ordov1.PodSecurityContext, c *ordov1.SecurityContext) Security {
	var sec Security
	if c != nil {
		sec = Security{
			RunAsUser:                c.RunAsUser,
			RunAsGroup:               c.RunAsGroup,
			Privileged:               c.GetPrivileged(),
			CapAdd:                   c.GetCapabilities().GetAdd(),
			CapDrop:                  c.GetCapabilities().GetDrop(),
			ReadOnlyRootFS:           c.GetReadOnlyRootFilesystem(),
			AllowPrivilegeEscalation: c.AllowPrivilegeEscalation,
			SeccompProfile:           c.GetSeccompProfile(),
		}
	}
	if sec.RunAsUser == nil && pod != nil {
		sec.RunAsUser = pod.RunAsUser
	}
	if sec.RunAsGroup == nil && pod != nil {
		sec.RunAsGroup = pod.RunAsGroup
	}
	if c != nil && c.RunAsNonRoot != nil {
		sec.RunAsNonRoot = *c.RunAsNonRoot
	} else {
		sec.RunAsNonRoot = pod.GetRunAsNonRoot()
	}
	if sec.SeccompProfile == "" {
		sec.SeccompProfile = pod.GetSeccompProfile()
	}
	sec.SupplementalGroups = append(sec.SupplementalGroups, pod.GetSupplementalGroups()...)
	if pod != nil && pod.FsGroup != nil {
		sec.SupplementalGroups = append(sec.SupplementalGroups, *pod.FsGroup)
	}
	return sec
}

// sysctlPrefixes are the kernel parameters a pod may set because they are
// namespaced: IPC ones everywhere, network ones only with its own network
// namespace.
var (
	ipcSysctls      = []string{"kernel.shm", "kernel.msg", "fs.mqueue."}
	ipcSysctlsExact = []string{"kernel.sem"}
)

// checkSysctls returns the pod's sysctls as a map, or a *ConfigError naming
// the first that is not namespaced (or is a network one in a pod on the
// host's network).
func checkSysctls(sysctls []*ordov1.Sysctl, hostNetwork bool) (map[string]string, error) {
	if len(sysctls) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(sysctls))
	for _, s := range sysctls {
		// Kubernetes accepts slashes as separators too: net/ipv4/ip_forward.
		name := strings.ReplaceAll(s.GetName(), "/", ".")
		ok := false
		for _, p := range ipcSysctls {
			ok = ok || strings.HasPrefix(name, p)
		}
		for _, e := range ipcSysctlsExact {
			ok = ok || name == e
		}
		if strings.HasPrefix(name, "net.") {
			if hostNetwork {
				return nil, &ConfigError{Reason: "SysctlForbidden",
					Message: fmt.Sprintf("forbidden sysctl: %q not allowed with host net enabled", s.GetName())}
			}
			ok = true
		}
		if !ok {
			return nil, &ConfigError{Reason: "SysctlForbidden",
				Message: fmt.Sprintf("forbidden sysctl: %q is not a namespaced sysctl (allowed: kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)", s.GetName())}
		}
		out[name] = s.GetValue()
	}
	return out, nil
}
