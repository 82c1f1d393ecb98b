package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// describer writes "Key:   value" lines with values aligned, kubectl-style.
type describer struct {
	w   io.Writer
	now time.Time
}

func (d *describer) kv(indent int, key, format string, args ...any) {
	pad := strings.Repeat("  ", indent)
	label := pad + key + ":"
	width := 26
	if len(label) >= width {
		width = len(label) + 1
	}
	fmt.Fprintf(d.w, "%-*s%s\n", width, label, fmt.Sprintf(format, args...))
}

func (d *describer) section(indent int, title string) {
	fmt.Fprintf(d.w, "%s%s:\n", strings.Repeat("  ", indent), title)
}

func (d *describer) time(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "<none>"
	}
	t := ts.AsTime().Local()
	return fmt.Sprintf("%s (%s ago)", t.Format(time.RFC1123Z), formatAge(d.now.Sub(t)))
}

func (d *describer) meta(m *ordov1.ObjectMeta, namespaced bool) {
	d.kv(0, "Name", "%s", m.GetName())
	if namespaced {
		d.kv(0, "Namespace", "%s", m.GetNamespace())
	}
	d.kv(0, "Labels", "%s", formatLabels(m.GetLabels()))
	if len(m.GetAnnotations()) > 0 {
		d.kv(0, "Annotations", "%s", formatLabels(m.GetAnnotations()))
	}
	d.kv(0, "Created", "%s", d.time(m.GetCreationTime()))
	if m.GetDeletionTime() != nil {
		d.kv(0, "Deleting Since", "%s", d.time(m.GetDeletionTime()))
	}
}

func formatSelector(s *ordov1.LabelSelector) string {
	var parts []string
	if len(s.GetMatchLabels()) > 0 {
		parts = append(parts, formatLabels(s.GetMatchLabels()))
	}
	for _, e := range s.GetMatchExpressions() {
		switch e.GetOperator() {
		case "Exists":
			parts = append(parts, e.GetKey())
		case "DoesNotExist":
			parts = append(parts, "!"+e.GetKey())
		default:
			parts = append(parts, fmt.Sprintf("%s %s (%s)", e.GetKey(), strings.ToLower(strings.Replace(e.GetOperator(), "NotIn", "notin", 1)), strings.Join(e.GetValues(), ",")))
		}
	}
	return orNone(strings.Join(parts, ","))
}

func formatMs(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + "s"
}

func formatProbe(p *ordov1.Probe) string {
	var h string
	switch {
	case p.GetExec() != nil:
		h = "exec " + fmt.Sprintf("%q", p.GetExec().GetCommand())
	case p.GetHttpGet() != nil:
		g := p.GetHttpGet()
		scheme := strings.ToLower(g.GetScheme())
		if scheme == "" {
			scheme = "http"
		}
		h = fmt.Sprintf("http-get %s://%s:%d%s", scheme, g.GetHost(), g.GetPort(), g.GetPath())
	case p.GetTcpSocket() != nil:
		h = fmt.Sprintf("tcp-socket %s:%d", p.GetTcpSocket().GetHost(), p.GetTcpSocket().GetPort())
	case p.GetGrpc() != nil:
		h = fmt.Sprintf("grpc <pod>:%d %s", p.GetGrpc().GetPort(), p.GetGrpc().GetService())
	}
	return fmt.Sprintf("%s delay=%s timeout=%s period=%s #success=%d #failure=%d", h,
		formatMs(p.GetInitialDelayMs()), formatMs(p.GetTimeoutMs()), formatMs(p.GetPeriodMs()),
		p.GetSuccessThreshold(), p.GetFailureThreshold())
}

func (d *describer) podSpec(indent int, ps *ordov1.PodSpec, statuses []*ordov1.ContainerStatus) {
	d.section(indent, "Containers")
	byName := map[string]*ordov1.ContainerStatus{}
	for _, cs := range statuses {
		byName[cs.GetName()] = cs
	}
	for _, c := range ps.GetContainers() {
		d.section(indent+1, c.GetName())
		in := indent + 2
		d.kv(in, "Image", "%s", c.GetImage())
		if c.GetImagePullPolicy() != "" {
			d.kv(in, "Image Pull Policy", "%s", c.GetImagePullPolicy())
		}
		if len(c.GetCommand()) > 0 {
			d.kv(in, "Command", "%s", strings.Join(c.GetCommand(), " "))
		}
		if len(c.GetArgs()) > 0 {
			d.kv(in, "Args", "%s", strings.Join(c.GetArgs(), " "))
		}
		if c.GetWorkingDir() != "" {
			d.kv(in, "Working Dir", "%s", c.GetWorkingDir())
		}
		var ports []string
		for _, p := range c.GetPorts() {
			s := fmt.Sprintf("%d/%s", p.GetContainerPort(), p.GetProtocol())
			if p.GetName() != "" {
				s += " (" + p.GetName() + ")"
			}
			ports = append(ports, s)
		}
		d.kv(in, "Ports", "%s", orNone(strings.Join(ports, ", ")))
		if p := c.GetReadinessProbe(); p != nil {
			d.kv(in, "Readiness", "%s", formatProbe(p))
		}
		if p := c.GetLivenessProbe(); p != nil {
			d.kv(in, "Liveness", "%s", formatProbe(p))
		}
		if p := c.GetStartupProbe(); p != nil {
			d.kv(in, "Startup", "%s", formatProbe(p))
		}
		if len(c.GetEnv()) > 0 {
			d.section(in, "Environment")
			for _, e := range c.GetEnv() {
				d.kv(in+1, e.GetName(), "%s", e.GetValue())
			}
		}
		if cs := byName[c.GetName()]; cs != nil {
			state := "Waiting"
			if cs.GetRunning() {
				state = "Running"
			}
			if cs.GetReason() != "" {
				state += " (" + cs.GetReason() + ")"
			}
			d.kv(in, "State", "%s", state)
			if cs.GetStartedTime() != nil {
				d.kv(in, "Started", "%s", d.time(cs.GetStartedTime()))
			}
			if cs.GetMessage() != "" {
				d.kv(in, "Message", "%s", cs.GetMessage())
			}
			d.kv(in, "Ready", "%t", cs.GetReady())
			d.kv(in, "Restart Count", "%d", cs.GetRestartCount())
			if cs.GetRestartCount() > 0 || cs.GetLastExitCode() != 0 {
				d.kv(in, "Last Exit Code", "%d", cs.GetLastExitCode())
			}
			if cs.GetContainerId() != "" {
				d.kv(in, "Container ID", "%s", cs.GetContainerId())
			}
		}
	}
	d.kv(indent, "Restart Policy", "%s", ps.GetRestartPolicy())
	d.kv(indent, "Termination Grace", "%ds", ps.GetTerminationGracePeriodSeconds())
	if len(ps.GetNodeSelector()) > 0 {
		d.kv(indent, "Node Selector", "%s", formatLabels(ps.GetNodeSelector()))
	}
	if a := ps.GetAffinity(); a != nil {
		for _, t := range a.GetNodeAffinityRequired() {
			var exprs []string
			for _, e := range t.GetMatchExpressions() {
				exprs = append(exprs, fmt.Sprintf("%s %s [%s]", e.GetKey(), e.GetOperator(), strings.Join(e.GetValues(), ",")))
			}
			d.kv(indent, "Node Affinity", "%s", strings.Join(exprs, " AND "))
		}
		for _, t := range a.GetPodAntiAffinityRequired() {
			d.kv(indent, "Pod Anti-Affinity", "%s per %s", formatSelector(t.GetLabelSelector()), t.GetTopologyKey())
		}
	}
}

func (d *describer) conditions(conds []*ordov1.Condition) {
	if len(conds) == 0 {
		return
	}
	d.section(0, "Conditions")
	t := &table{}
	var rows [][]string
	for _, c := range conds {
		rows = append(rows, []string{"  " + c.GetType(), c.GetStatus(), orNone(c.GetReason()), c.GetMessage()})
	}
	t.write(d.w, []string{"  Type", "Status", "Reason", "Message"}, rows)
}

func (d *describer) pods(pods []*ordov1.Pod) {
	if len(pods) == 0 {
		d.kv(0, "Pods", "<none>")
		return
	}
	d.section(0, "Pods")
	sort.Slice(pods, func(i, j int) bool { return lessName(pods[i].GetMetadata().GetName(), pods[j].GetMetadata().GetName()) })
	t := &table{}
	var rows [][]string
	for _, p := range pods {
		r := podRow(p, d.now, true)
		r[0] = "  " + r[0]
		rows = append(rows, r)
	}
	h := header(kindPod, true)
	h = append([]string{"  " + h[0]}, h[1:]...)
	t.write(d.w, h, rows)
}

func (d *describer) events(evs []*ordov1.Event) {
	if len(evs) == 0 {
		d.kv(0, "Events", "<none>")
		return
	}
	d.section(0, "Events")
	t := &table{}
	var rows [][]string
	for _, e := range evs {
		rows = append(rows, []string{"  " + age(d.now, e.GetTime()), orNone(e.GetReason()), e.GetMessage()})
	}
	t.write(d.w, []string{"  Age", "Reason", "Message"}, rows)
}

func (a *app) describe(ctx context.Context, args *args) error {
	if err := args.only("describe", "namespace"); err != nil {
		return err
	}
	k, names, err := kindAndNames("describe", args.pos)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usagef("ordo describe needs a name: ordo describe %s NAME", lowerKind(k.Name))
	}
	ns := namespaceOf(args)
	for i, name := range names {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		it, resp, err := a.getOne(ctx, k, ns, name)
		if err != nil {
			return err
		}
		d := &describer{w: a.stdout, now: a.now()}
		if describe := printers[k.Name].describe; describe != nil {
			if err := describe(a, ctx, d, it.msg); err != nil {
				return err
			}
		}
		d.events(resp.GetEvents())
	}
	return nil
}

func (a *app) listPods(ctx context.Context, ns string) ([]*ordov1.Pod, error) {
	c, err := a.dial()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.List(cctx, &ordov1.ListRequest{Kind: kindPod, Namespace: ns})
	if err != nil {
		return nil, a.rpcError(err)
	}
	return resp.GetPods(), nil
}

func (a *app) describeStatefulSet(ctx context.Context, d *describer, s *ordov1.StatefulSet) error {
	spec, st := s.GetSpec(), s.GetStatus()
	d.meta(s.GetMetadata(), true)
	d.kv(0, "Selector", "%s", formatSelector(spec.GetSelector()))
	d.kv(0, "Service Name", "%s", orNone(spec.GetServiceName()))
	d.kv(0, "Replicas", "%d desired | %d total", spec.GetReplicas(), st.GetReplicas())
	d.kv(0, "Pods Status", "%d ready / %d available / %d updated / %d current",
		st.GetReadyReplicas(), st.GetAvailableReplicas(), st.GetUpdatedReplicas(), st.GetCurrentReplicas())
	d.kv(0, "Pod Management Policy", "%s", spec.GetPodManagementPolicy())
	if spec.GetOrdinalsStart() != 0 {
		d.kv(0, "Ordinals Start", "%d", spec.GetOrdinalsStart())
	}
	us := spec.GetUpdateStrategy()
	d.kv(0, "Update Strategy", "%s", us.GetType())
	if ru := us.GetRollingUpdate(); ru != nil {
		d.kv(1, "Partition", "%d", ru.GetPartition())
		d.kv(1, "Max Unavailable", "%d", ru.GetMaxUnavailable())
	}
	d.kv(0, "Min Ready Seconds", "%d", spec.GetMinReadySeconds())
	d.kv(0, "Revision History Limit", "%d", spec.GetRevisionHistoryLimit())
	d.kv(0, "Current Revision", "%s", orNone(st.GetCurrentRevision()))
	d.kv(0, "Update Revision", "%s", orNone(st.GetUpdateRevision()))
	d.kv(0, "Generation", "%d (observed %d)", s.GetMetadata().GetGeneration(), st.GetObservedGeneration())
	d.section(0, "Pod Template")
	d.kv(1, "Labels", "%s", formatLabels(spec.GetTemplate().GetMetadata().GetLabels()))
	d.podSpec(1, spec.GetTemplate().GetSpec(), nil)
	d.conditions(st.GetConditions())
	pods, err := a.listPods(ctx, s.GetMetadata().GetNamespace())
	if err != nil {
		return err
	}
	var mine []*ordov1.Pod
	for _, p := range pods {
		if p.GetSetName() == s.GetMetadata().GetName() && p.GetMetadata().GetNamespace() == s.GetMetadata().GetNamespace() {
			mine = append(mine, p)
		}
	}
	d.pods(mine)
	return nil
}

func (d *describer) describePod(p *ordov1.Pod) {
	st := p.GetStatus()
	d.meta(p.GetMetadata(), true)
	d.kv(0, "Node", "%s", orNone(p.GetNodeName()))
	d.kv(0, "StatefulSet", "%s", orNone(p.GetSetName()))
	d.kv(0, "Ordinal", "%d", p.GetOrdinal())
	d.kv(0, "Revision", "%s", orNone(p.GetRevision()))
	d.kv(0, "Epoch", "%d", p.GetEpoch())
	d.kv(0, "Status", "%s", podStatus(p))
	d.kv(0, "Phase", "%s", phaseName(st.GetPhase()))
	if st.GetReason() != "" {
		d.kv(0, "Reason", "%s", st.GetReason())
	}
	if st.GetMessage() != "" {
		d.kv(0, "Message", "%s", st.GetMessage())
	}
	d.kv(0, "Ready", "%s", podReady(p))
	d.kv(0, "Restarts", "%d", podRestarts(p))
	d.kv(0, "IP", "%s", orNone(st.GetPodIp()))
	if h := p.GetSpec().GetHostname(); h != "" {
		fqdn := h
		if sd := p.GetSpec().GetSubdomain(); sd != "" {
			fqdn += "." + sd + "." + p.GetMetadata().GetNamespace() + ".svc.cluster.local"
		}
		d.kv(0, "Hostname", "%s", fqdn)
	}
	d.kv(0, "Scheduled", "%s", d.time(p.GetScheduledTime()))
	d.kv(0, "Started", "%s", d.time(st.GetStartedTime()))
	d.kv(0, "Ready Since", "%s", d.time(st.GetReadyTime()))
	if st.GetObservedTime() != nil {
		d.kv(0, "Last Report", "%s", d.time(st.GetObservedTime()))
	}
	d.podSpec(0, p.GetSpec(), st.GetContainers())
}

// phaseName turns POD_PHASE_RUNNING into Running.
func phaseName(p ordov1.PodPhase) string {
	s := strings.TrimPrefix(p.String(), "POD_PHASE_")
	if s == "UNSPECIFIED" {
		return "Pending"
	}
	return s[:1] + strings.ToLower(s[1:])
}

func (a *app) describeNode(ctx context.Context, d *describer, n *ordov1.NodeInfo) error {
	d.meta(n.GetMetadata(), false)
	d.kv(0, "Status", "%s", nodeStatus(n))
	d.kv(0, "Addresses", "%s", orNone(strings.Join(n.GetAddresses(), ", ")))
	d.kv(0, "Agent Version", "%s", orNone(n.GetAgentVersion()))
	d.kv(0, "Last Heartbeat", "%s", d.time(n.GetLastHeartbeat()))
	c := n.GetCapacity()
	d.section(0, "Capacity")
	d.kv(1, "Pods", "%d", c.GetMaxPods())
	if c.GetCpuMillis() > 0 {
		d.kv(1, "CPU", "%dm", c.GetCpuMillis())
	}
	if c.GetMemoryBytes() > 0 {
		d.kv(1, "Memory", "%dMi", c.GetMemoryBytes()>>20)
	}
	pods, err := a.listPods(ctx, "")
	if err != nil {
		return err
	}
	var mine []*ordov1.Pod
	for _, p := range pods {
		if p.GetNodeName() == n.GetMetadata().GetName() {
			mine = append(mine, p)
		}
	}
	d.pods(mine)
	return nil
}

func (a *app) describeService(ctx context.Context, d *describer, s *ordov1.Service) error {
	d.meta(s.GetMetadata(), true)
	d.kv(0, "Selector", "%s", formatLabels(s.GetSpec().GetSelector()))
	d.kv(0, "Type", "%s", serviceType(s))
	d.kv(0, "IP", "%s", orNone(s.GetSpec().GetClusterIp()))
	for _, p := range s.GetSpec().GetPorts() {
		d.kv(0, "Port", "%s %d/%s -> %d", orNone(p.GetName()), p.GetPort(), p.GetProtocol(), p.GetTargetPort())
	}
	d.kv(0, "Publish Not Ready", "%t", s.GetSpec().GetPublishNotReadyAddresses())
	if len(s.GetSpec().GetSelector()) == 0 {
		return nil
	}
	pods, err := a.listPods(ctx, s.GetMetadata().GetNamespace())
	if err != nil {
		return err
	}
	var eps []string
	sort.Slice(pods, func(i, j int) bool { return lessName(pods[i].GetMetadata().GetName(), pods[j].GetMetadata().GetName()) })
	for _, p := range pods {
		ready := p.GetStatus().GetReady() || s.GetSpec().GetPublishNotReadyAddresses()
		if matchesSelector(p.GetMetadata(), s.GetSpec().GetSelector()) && ready && p.GetMetadata().GetDeletionTime() == nil {
			ep := p.GetMetadata().GetName()
			if ip := p.GetStatus().GetPodIp(); ip != "" {
				ep += " (" + ip + ")"
			}
			eps = append(eps, ep)
		}
	}
	d.kv(0, "Endpoints", "%s", orNone(strings.Join(eps, ", ")))
	return nil
}
