package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Kinds as the API names them.
const (
	kindStatefulSet = "StatefulSet"
	kindService     = "Service"
	kindPod         = "Pod"
	kindNode        = "Node"
)

// kindOf maps what a user types (statefulsets, sts, po, svc, ...) to a kind.
func kindOf(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "statefulset", "statefulsets", "sts":
		return kindStatefulSet, true
	case "service", "services", "svc":
		return kindService, true
	case "pod", "pods", "po":
		return kindPod, true
	case "node", "nodes", "no":
		return kindNode, true
	case "endpoints", "endpoint", "ep":
		return kindEndpoints, true
	case "persistentvolume", "persistentvolumes", "pv":
		return kindPV, true
	case "persistentvolumeclaim", "persistentvolumeclaims", "pvc":
		return kindPVC, true
	case "storageclass", "storageclasses", "sc":
		return kindSC, true
	}
	return "", false
}

// lowerKind is how output names a kind: statefulset/web, service "nginx".
func lowerKind(kind string) string { return strings.ToLower(kind) }

// ---------------------------------------------------------------- ages

// formatAge formats a duration the way kubectl's AGE column does:
// 5s, 119s, 3m20s, 45m, 5h10m, 20h, 3d4h, 12d, 2y10d, 9y.
func formatAge(d time.Duration) string {
	if d < -time.Second {
		return "<invalid>"
	}
	if d < 0 {
		return "0s"
	}
	sec := int64(d / time.Second)
	switch {
	case sec < 120:
		return fmt.Sprintf("%ds", sec)
	}
	min := sec / 60
	switch {
	case min < 10:
		if s := sec % 60; s != 0 {
			return fmt.Sprintf("%dm%ds", min, s)
		}
		return fmt.Sprintf("%dm", min)
	case min < 180:
		return fmt.Sprintf("%dm", min)
	}
	hours := min / 60
	switch {
	case hours < 8:
		if m := min % 60; m != 0 {
			return fmt.Sprintf("%dh%dm", hours, m)
		}
		return fmt.Sprintf("%dh", hours)
	case hours < 48:
		return fmt.Sprintf("%dh", hours)
	case hours < 24*8:
		if h := hours % 24; h != 0 {
			return fmt.Sprintf("%dd%dh", hours/24, h)
		}
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*2:
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*8:
		if dd := (hours / 24) % 365; dd != 0 {
			return fmt.Sprintf("%dy%dd", hours/24/365, dd)
		}
		return fmt.Sprintf("%dy", hours/24/365)
	}
	return fmt.Sprintf("%dy", hours/24/365)
}

func age(now time.Time, ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "<unknown>"
	}
	return formatAge(now.Sub(ts.AsTime()))
}

// ---------------------------------------------------------------- tables

// table renders rows in columns separated by at least three spaces, each column
// at least 10 wide, like kubectl. widths remembers the column widths so that
// the lines printed later by a watch stay aligned with the header.
type table struct {
	widths []int
	headed bool // the header line was printed
}

func (t *table) fit(row []string) {
	for i, c := range row {
		w := len(c) + 3
		if w < 10 {
			w = 10
		}
		if i >= len(t.widths) {
			t.widths = append(t.widths, w)
		} else if w > t.widths[i] {
			t.widths[i] = w
		}
	}
}

func (t *table) line(row []string) string {
	var b strings.Builder
	for i, c := range row {
		if i == len(row)-1 {
			b.WriteString(c)
			break
		}
		b.WriteString(c)
		b.WriteString(strings.Repeat(" ", t.widths[i]-len(c)))
	}
	return b.String() + "\n"
}

// write fits and prints header and rows.
func (t *table) write(w io.Writer, header []string, rows [][]string) {
	t.fit(header)
	for _, r := range rows {
		t.fit(r)
	}
	io.WriteString(w, t.line(header))
	t.headed = true
	for _, r := range rows {
		io.WriteString(w, t.line(r))
	}
}

// columns for each kind.
func header(kind string, wide bool) []string {
	switch kind {
	case kindStatefulSet:
		if wide {
			return []string{"NAME", "READY", "AGE", "CONTAINERS", "IMAGES"}
		}
		return []string{"NAME", "READY", "AGE"}
	case kindPod:
		if wide {
			return []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "IP", "REVISION"}
		}
		return []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"}
	case kindNode:
		if wide {
			return []string{"NAME", "STATUS", "PODS", "AGE", "ADDRESSES", "VERSION"}
		}
		return []string{"NAME", "STATUS", "PODS", "AGE", "ADDRESSES"}
	case kindService:
		if wide {
			return []string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE", "SELECTOR"}
		}
		return []string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE"}
	case kindEndpoints:
		return []string{"NAME", "ENDPOINTS", "AGE"}
	}
	return storageHeader(kind, wide)
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

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

func formatLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return orNone(strings.Join(parts, ","))
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

// ---------------------------------------------------------------- items

// item is one listed object of any kind.
type item struct {
	kind string
	msg  proto.Message
	meta *ordov1.ObjectMeta
}

func (it item) row(now time.Time, wide bool) []string {
	switch m := it.msg.(type) {
	case *ordov1.StatefulSet:
		return statefulSetRow(m, now, wide)
	case *ordov1.Pod:
		return podRow(m, now, wide)
	case *ordov1.NodeInfo:
		return nodeRow(m, now, wide)
	case *ordov1.Service:
		return serviceRow(m, now, wide)
	case *ordov1.Endpoints:
		return endpointsRow(m, now)
	}
	return storageRow(it.msg, now, wide)
}

func (it item) name() string { return lowerKind(it.kind) + "/" + it.meta.GetName() }

func listItems(kind string, resp *ordov1.ListResponse) []item {
	var out []item
	switch kind {
	case kindStatefulSet:
		for _, s := range resp.GetStatefulSets() {
			out = append(out, item{kind, s, s.GetMetadata()})
		}
	case kindService:
		for _, s := range resp.GetServices() {
			out = append(out, item{kind, s, s.GetMetadata()})
		}
	case kindPod:
		for _, p := range resp.GetPods() {
			out = append(out, item{kind, p, p.GetMetadata()})
		}
	case kindNode:
		for _, n := range resp.GetNodes() {
			out = append(out, item{kind, n, n.GetMetadata()})
		}
	case kindEndpoints:
		for _, e := range resp.GetEndpoints() {
			out = append(out, item{kind, e, e.GetMetadata()})
		}
	default:
		out = storageItems(kind, resp)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].meta, out[j].meta
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return lessName(a.GetName(), b.GetName())
	})
	return out
}

// lessName orders names with numeric suffixes naturally: web-2 before web-10.
func lessName(a, b string) bool {
	ai, bi := strings.LastIndexByte(a, '-'), strings.LastIndexByte(b, '-')
	if ai > 0 && bi > 0 && a[:ai] == b[:bi] {
		an, aerr := strconv.Atoi(a[ai+1:])
		bn, berr := strconv.Atoi(b[bi+1:])
		if aerr == nil && berr == nil {
			return an < bn
		}
	}
	return a < b
}

// eventItem extracts the object an Event is about.
func eventItem(ev *ordov1.Event) (item, bool) {
	switch {
	case ev.GetPod() != nil:
		return item{kindPod, ev.GetPod(), ev.GetPod().GetMetadata()}, true
	case ev.GetNode() != nil:
		return item{kindNode, ev.GetNode(), ev.GetNode().GetMetadata()}, true
	case ev.GetObject().GetStatefulSet() != nil:
		s := ev.GetObject().GetStatefulSet()
		return item{kindStatefulSet, s, s.GetMetadata()}, true
	case ev.GetObject().GetService() != nil:
		s := ev.GetObject().GetService()
		return item{kindService, s, s.GetMetadata()}, true
	}
	return storageEventItem(ev)
}

func matchesLabels(meta *ordov1.ObjectMeta, sel map[string]string) bool {
	for k, v := range sel {
		if got, ok := meta.GetLabels()[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- json / yaml

var marshaler = protojson.MarshalOptions{UseProtoNames: false, EmitUnpopulated: false}

// compactJSON marshals a message as stable single-line JSON.
func compactJSON(m proto.Message) ([]byte, error) {
	b, err := marshaler.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// encodeItems renders one object (single) or {"items":[...]} as indented JSON or YAML.
func encodeItems(format string, items []item, single bool) ([]byte, error) {
	var doc []byte
	if single && len(items) == 1 {
		b, err := compactJSON(items[0].msg)
		if err != nil {
			return nil, err
		}
		doc = b
	} else {
		var buf bytes.Buffer
		buf.WriteString(`{"items":[`)
		for i, it := range items {
			if i > 0 {
				buf.WriteByte(',')
			}
			b, err := compactJSON(it.msg)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
		}
		buf.WriteString(`]}`)
		doc = buf.Bytes()
	}
	if format == "yaml" {
		return yaml.JSONToYAML(doc)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "    "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
