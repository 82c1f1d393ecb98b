package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/test/framework"
)

// The end-to-end tests run against the local lab (scripts/lab): a scheduler and
// three nodes, each a network namespace with its own containerd and agent.
// They need root, containerd, runc and iproute2. Under CI=true a missing
// prerequisite fails the run; elsewhere the tests are skipped with the reason.
var clus = framework.NewLocalLab(3)

// One lab for the whole package, from a clean start.
func TestMain(m *testing.M) { os.Exit(framework.Main(m, clus)) }

// lab runs scripts/lab and fails the test if it fails.
func lab(t testing.TB, args ...string) string {
	t.Helper()
	out, err := clus.Script(context.Background(), args...)
	if err != nil {
		t.Fatalf("scripts/lab %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func setManifest(name, policy string, replicas int, podSpec string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[1]s
spec:
  serviceName: %[1]s
  replicas: %[3]d
  podManagementPolicy: %[2]s
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 1
%[4]s`, name, policy, replicas, podSpec)
}
