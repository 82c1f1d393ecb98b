package agent

import (
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestNetworkProbesDialInsideThePod(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	// httpd only starts after 0.3 s: the startup probe holds readiness back
	// until its port answers inside the pod's network namespace.
	pod := testPod("http-0", 1, &ordov1.Container{
		Name:    "app",
		Command: []string{"sh", "-c", "echo ok > /var/www/index.html; sleep 0.3; exec httpd -f -p 8080 -h /var/www"},
		StartupProbe: &ordov1.Probe{
			TcpSocket: &ordov1.TCPSocketAction{Port: 8080}, PeriodMs: 50, FailureThreshold: 200,
		},
		ReadinessProbe: &ordov1.Probe{
			HttpGet: &ordov1.HTTPGetAction{Path: "/index.html", Port: 8080}, PeriodMs: 50,
		},
	})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r := ta.waitReport(t, "http-0 running", phaseIs("http-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING))
	if r.GetStatus().GetReady() {
		t.Error("ready before the startup probe passed")
	}
	ta.waitReport(t, "http-0 ready", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "http-0" && r.GetStatus().GetReady()
	})
	ta.ApplyDesired(nil)
	ta.waitReport(t, "http-0 gone", phaseIs("http-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}

func TestFailingLivenessProbeRestartsContainer(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	pod := testPod("live-0", 1, &ordov1.Container{
		Name:    "app",
		Command: []string{"sh", "-c", "exec httpd -f -p 8080 -h /var/www"},
		LivenessProbe: &ordov1.Probe{
			HttpGet: &ordov1.HTTPGetAction{Path: "/missing", Port: 8080}, PeriodMs: 50, FailureThreshold: 2,
		},
	})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r := ta.waitReport(t, "live-0 restarted", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "live-0" && r.GetStatus().GetRestarts() >= 1
	})
	if r.GetStatus().GetContainers()[0].GetRestartCount() < 1 {
		t.Errorf("container restart count = %d", r.GetStatus().GetContainers()[0].GetRestartCount())
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "live-0 gone", phaseIs("live-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}
