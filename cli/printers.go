package cli

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// printer is how the CLI shows objects of one kind: the columns of `get`
// (and of `get -o wide`), one table row per object, and the body of
// `describe` before the events.
type printer struct {
	header     []string
	wideHeader []string // nil: the same as header
	row        func(m proto.Message, now time.Time, wide bool) []string
	// describe prints one object; nil prints only its events.
	describe func(a *app, ctx context.Context, d *describer, m proto.Message) error
}

// printers has one row per kind of internal/kinds. It is filled by init:
// the describers print tables of pods with header, which reads it.
var printers map[string]printer

func init() {
	printers = map[string]printer{
		kinds.StatefulSet: {
			header:     []string{"NAME", "READY", "AGE"},
			wideHeader: []string{"NAME", "READY", "AGE", "CONTAINERS", "IMAGES"},
			row:        rowOf(statefulSetRow),
			describe:   describeOf((*app).describeStatefulSet),
		},
		kinds.Service: {
			header:     []string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE"},
			wideHeader: []string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE", "SELECTOR"},
			row:        rowOf(serviceRow),
			describe:   describeOf((*app).describeService),
		},
		kinds.Pod: {
			header:     []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"},
			wideHeader: []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "IP", "REVISION"},
			row:        rowOf(podRow),
			describe: describeOf(func(_ *app, _ context.Context, d *describer, p *ordov1.Pod) error {
				d.describePod(p)
				return nil
			}),
		},
		kinds.Node: {
			header:     []string{"NAME", "STATUS", "PODS", "AGE", "ADDRESSES"},
			wideHeader: []string{"NAME", "STATUS", "PODS", "AGE", "ADDRESSES", "VERSION"},
			row:        rowOf(nodeRow),
			describe:   describeOf((*app).describeNode),
		},
		kinds.PersistentVolume: {
			header: []string{"NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "REASON", "AGE"},
			wideHeader: []string{"NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "REASON", "AGE",
				"SOURCE", "NODE AFFINITY"},
			row: rowOf(persistentVolumeRow),
		},
		kinds.PersistentVolumeClaim: {
			header: []string{"NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE"},
			row:    rowOf(persistentVolumeClaimRow),
		},
		kinds.StorageClass: {
			header: []string{"NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "AGE"},
			row:    rowOf(storageClassRow),
		},
		kinds.Endpoints: {
			header: []string{"NAME", "ENDPOINTS", "AGE"},
			row:    rowOf(endpointsRow),
		},
		kinds.ConfigMap: {
			header: []string{"NAME", "DATA", "AGE"},
			row:    rowOf(configMapRow),
		},
		kinds.Secret: {
			header: []string{"NAME", "TYPE", "DATA", "AGE"},
			row:    rowOf(secretRow),
		},
		kinds.PodDisruptionBudget: {
			header: []string{"NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"},
			row:    rowOf(podDisruptionBudgetRow),
		},
	}
}

// rowOf adapts a row function of one message type to the table.
func rowOf[T proto.Message](row func(T, time.Time, bool) []string) func(proto.Message, time.Time, bool) []string {
	return func(m proto.Message, now time.Time, wide bool) []string { return row(m.(T), now, wide) }
}

// describeOf adapts a describer of one message type to the table.
func describeOf[T proto.Message](f func(*app, context.Context, *describer, T) error) func(*app, context.Context, *describer, proto.Message) error {
	return func(a *app, ctx context.Context, d *describer, m proto.Message) error { return f(a, ctx, d, m.(T)) }
}

// header is the column titles of a kind's table.
func header(kind string, wide bool) []string {
	p := printers[kind]
	if wide && p.wideHeader != nil {
		return p.wideHeader
	}
	return p.header
}
