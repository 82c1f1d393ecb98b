// Package vmlab runs ordo across virtual machines: scripts/vmlab boots node
// VMs (containerd and ordo-agent under systemd) and an NFS server VM with qemu,
// and these tests drive the scheduler on the host.
//
// Booting VMs takes minutes, so the tests run only when ORDO_VMLAB=1 (make
// vmlab-test); `go test ./...` skips them. When asked for, a missing
// prerequisite fails the run. With ORDO_VMLAB_REUSE=1 they run against a lab
// that is already up and leave it running (for working on the tests).
package vmlab

import (
	"os"
	"testing"

	"github.com/ordoproject/ordo/test/framework"
)

var clus = framework.NewVMLab(2)

func TestMain(m *testing.M) { os.Exit(framework.Main(m, clus)) }
