package volumes

import (
	"fmt"
	"net"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
)

// NFSSource is the mount source of an export: "server:/path", with an IPv6
// server in brackets.
func NFSSource(server, path string) string {
	if ip := net.ParseIP(server); ip != nil && ip.To4() == nil {
		server = "[" + server + "]"
	}
	return server + ":" + path
}

// nfsFlagOptions are options mount(8) turns into mount flags rather than
// passing them to the NFS client.
var nfsFlagOptions = map[string]bool{
	"ro": true, "rw": true, "sync": true, "async": true, "noexec": true, "exec": true,
	"nosuid": true, "suid": true, "nodev": true, "dev": true, "noatime": true, "atime": true,
	"relatime": true, "norelatime": true, "nodiratime": true, "diratime": true,
	"remount": true, "bind": true, "rbind": true, "defaults": true,
}

// NFSOptions turns a volume's mountOptions (one per entry, as Kubernetes
// gives them) and its read-only flag into the option string for mount.nfs:
// "ro" is added when the volume is read-only (a read-only volume cannot be
// made writable by "rw"), a "vers"/"nfsvers" given twice with different
// values, an empty entry, an entry with a comma or whitespace, and options
// that are not NFS options (bind, remount) are rejected. Duplicates are
// dropped; order is kept.
func NFSOptions(mountOptions []string, readOnly bool) (string, error) {
	var out []string
	seen := map[string]bool{}
	vers := ""
	for i, o := range mountOptions {
		if o == "" || strings.ContainsAny(o, ", \t\n") {
			return "", errdefs.Invalid(fmt.Sprintf("mountOptions[%d]", i), "%q: one option per entry, without commas or spaces", o)
		}
		key, val, _ := strings.Cut(o, "=")
		switch key {
		case "bind", "rbind", "remount":
			return "", errdefs.Invalid(fmt.Sprintf("mountOptions[%d]", i), "%q is not an NFS mount option", o)
		case "vers", "nfsvers":
			if vers != "" && vers != val {
				return "", errdefs.Invalid(fmt.Sprintf("mountOptions[%d]", i), "NFS version given twice (%s and %s)", vers, val)
			}
			vers = val
		case "rw":
			if readOnly {
				continue
			}
		}
		if seen[o] {
			continue
		}
		seen[o] = true
		out = append(out, o)
	}
	if readOnly && !seen["ro"] {
		out = append(out, "ro")
	}
	return strings.Join(out, ","), nil
}

// SplitFlags separates flag options (ro, noexec, ...) from the data string
// handed to the kernel's NFS client, for mount(2).
func SplitFlags(options string) (flags []string, data string) {
	var rest []string
	for _, o := range strings.Split(options, ",") {
		if o == "" {
			continue
		}
		if nfsFlagOptions[o] {
			flags = append(flags, o)
			continue
		}
		rest = append(rest, o)
	}
	return flags, strings.Join(rest, ",")
}
