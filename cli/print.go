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

	"github.com/ordoproject/ordo/internal/kinds"
	"github.com/ordoproject/ordo/internal/labels"
	"github.com/ordoproject/ordo/manifest/export"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

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

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
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

// ---------------------------------------------------------------- items

// item is one listed object of any kind.
type item struct {
	kind string
	msg  proto.Message
	meta *ordov1.ObjectMeta
}

func (it item) row(now time.Time, wide bool) []string {
	return printers[it.kind].row(it.msg, now, wide)
}

func (it item) name() string { return lowerKind(it.kind) + "/" + it.meta.GetName() }

func listItems(k *kinds.Kind, resp *ordov1.ListResponse) []item {
	var out []item
	for _, m := range k.Items(resp) {
		out = append(out, item{k.Name, m, kinds.Meta(m)})
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
	k, m, ok := kinds.OfEvent(ev)
	if !ok {
		return item{}, false
	}
	return item{k.Name, m, kinds.Meta(m)}, true
}

// matchesSelector reports whether an object has every label of sel.
func matchesSelector(meta *ordov1.ObjectMeta, sel map[string]string) bool {
	return labels.SelectorMatches(&ordov1.LabelSelector{MatchLabels: sel}, meta.GetLabels())
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

// encodeItems renders one object (single) or a kubectl List of them as
// indented JSON or YAML, in the shape kubectl prints them.
func encodeItems(format string, items []item, single bool) ([]byte, error) {
	var v any
	if single && len(items) == 1 {
		o, err := export.Object(items[0].msg)
		if err != nil {
			return nil, err
		}
		v = o
	} else {
		ms := make([]proto.Message, len(items))
		for i, it := range items {
			ms[i] = it.msg
		}
		l, err := export.Objects(ms)
		if err != nil {
			return nil, err
		}
		v = l
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, err
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
