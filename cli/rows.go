package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Table rows of the workload kinds (StatefulSet, Pod, Node, Service), and the
// cell values (pod status, readiness, ...) that describe shows too.

func statefulSetRow(s *ordov1.StatefulSet, now time.Time, wide bool) []string {
	row := []string{
		s.GetMetadata().GetName(),
		fmt.Sprintf("%d/%d", s.GetStatus().GetReadyReplicas(), s.GetSpec().GetReplicas()),
		age(now, s.GetMetadata().GetCreationTime()),
	}
	if wide {
		var names, images []string
		for _, c := range s.GetSpec().GetTemplate().GetSpec().GetContainers() {
			names = append(names, c.GetName())
			images = append(images, c.GetImage())
		}
		row = append(row, orNone(strings.Join(names, ",")), orNone(strings.Join(images, ",")))
	}
	return row
}

// podReady is "ready/total" over the pod's containers.
func podReady(p *ordov1.Pod) string {
	total := len(p.GetSpec().GetContainers())
	ready := 0
	if cs := p.GetStatus().GetContainers(); len(cs) > 0 {
		if total < len(cs) {
			total = len(cs)
		}
		for _, c := range cs {
			if c.GetReady() {
				ready++
			}
		}
	} else if p.GetStatus().GetReady() {
		ready = total
	}
	if total == 0 {
		total = 1
		if p.GetStatus().GetReady() {
			ready = 1
		}
	}
	return fmt.Sprintf("%d/%d", ready, total)
}

// podStatus is the STATUS column: Running, Pending (or why: ContainerCreating,
// Unschedulable, ErrImageNeverPull, ...), Terminating, CrashLoopBackOff, Unknown.
func podStatus(p *ordov1.Pod) string {
	st := p.GetStatus()
	if p.GetMetadata().GetDeletionTime() != nil {
		if st.GetPhase() == ordov1.PodPhase_POD_PHASE_UNKNOWN {
			return "Unknown"
		}
		return "Terminating"
	}
	// Init containers still running or failing: Init:1/2, Init:Error, Init:CrashLoopBackOff.
	if r := st.GetReason(); strings.HasPrefix(r, "Init:") && st.GetPhase() != ordov1.PodPhase_POD_PHASE_RUNNING {
		return r
	}
	// A container that is not running says why (CrashLoopBackOff, ImagePullBackOff, ...).
	waiting := ""
	for _, c := range st.GetContainers() {
		if !c.GetRunning() && c.GetReason() != "" {
			waiting = c.GetReason()
			break
		}
	}
	switch st.GetPhase() {
	case ordov1.PodPhase_POD_PHASE_RUNNING:
		if waiting != "" {
			return waiting
		}
		return "Running"
	case ordov1.PodPhase_POD_PHASE_PENDING, ordov1.PodPhase_POD_PHASE_UNSPECIFIED:
		if waiting != "" {
			return waiting
		}
		if st.GetReason() != "" {
			return st.GetReason()
		}
		return "Pending"
	case ordov1.PodPhase_POD_PHASE_TERMINATING:
		return "Terminating"
	case ordov1.PodPhase_POD_PHASE_UNKNOWN:
		return "Unknown"
	case ordov1.PodPhase_POD_PHASE_SUCCEEDED:
		return "Completed"
	case ordov1.PodPhase_POD_PHASE_FAILED:
		if st.GetReason() != "" {
			return st.GetReason()
		}
		return "Error"
	case ordov1.PodPhase_POD_PHASE_GONE:
		return "Terminated"
	}
	return "Unknown"
}

func podRestarts(p *ordov1.Pod) int32 {
	n := p.GetStatus().GetRestarts()
	var sum int32
	for _, c := range p.GetStatus().GetContainers() {
		sum += c.GetRestartCount()
	}
	return max(n, sum)
}

func podRow(p *ordov1.Pod, now time.Time, wide bool) []string {
	row := []string{
		p.GetMetadata().GetName(),
		podReady(p),
		podStatus(p),
		strconv.Itoa(int(podRestarts(p))),
		age(now, p.GetMetadata().GetCreationTime()),
		orNone(p.GetNodeName()),
	}
	if wide {
		row = append(row, orNone(p.GetStatus().GetPodIp()), orNone(p.GetRevision()))
	}
	return row
}

func nodeStatus(n *ordov1.NodeInfo) string {
	if n.GetReady() {
		return "Ready"
	}
	return "NotReady"
}

func nodeRow(n *ordov1.NodeInfo, now time.Time, wide bool) []string {
	row := []string{
		n.GetMetadata().GetName(),
		nodeStatus(n),
		strconv.Itoa(int(n.GetPods())),
		age(now, n.GetMetadata().GetCreationTime()),
		orNone(strings.Join(n.GetAddresses(), ",")),
	}
	if wide {
		row = append(row, orNone(n.GetAgentVersion()))
	}
	return row
}

func serviceType(s *ordov1.Service) string {
	if s.GetSpec().GetClusterIp() == "None" {
		return "Headless"
	}
	return "ClusterIP"
}

func servicePorts(s *ordov1.Service) string {
	var ports []string
	for _, p := range s.GetSpec().GetPorts() {
		proto := p.GetProtocol()
		if proto == "" {
			proto = "TCP"
		}
		ports = append(ports, fmt.Sprintf("%d/%s", p.GetPort(), proto))
	}
	return orNone(strings.Join(ports, ","))
}

func serviceRow(s *ordov1.Service, now time.Time, wide bool) []string {
	row := []string{
		s.GetMetadata().GetName(),
		serviceType(s),
		orNone(s.GetSpec().GetClusterIp()),
		servicePorts(s),
		age(now, s.GetMetadata().GetCreationTime()),
	}
	if wide {
		row = append(row, formatLabels(s.GetSpec().GetSelector()))
	}
	return row
}
