package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func init() {
	commandHelp["rollout"] = rolloutHelp
	commandHelp["set"] = setHelp
}

const rolloutHelp = `Manage the rollout of a StatefulSet's pod template.

Usage:
  ordo rollout status sts/NAME [--watch=false]
  ordo rollout history sts/NAME [--revision=N]
  ordo rollout undo sts/NAME [--to-revision=N]
  ordo rollout restart sts/NAME

status prints the rollout's progress until it is complete (exit status 0) or
has failed (exit status 1); with --watch=false it prints the present state once.
history lists the set's revisions; --revision=N prints that revision's template.
undo returns the set to the previous revision's template, or to revision N.
restart replaces every pod, one at a time as the update strategy says.

Examples:
  ordo set image sts/web app=ordo.local/busybox:v2
  ordo rollout status sts/web
  ordo rollout undo sts/web
`

const setHelp = `Change a StatefulSet's pod template.

Usage:
  ordo set image sts/NAME CONTAINER=IMAGE [CONTAINER=IMAGE...]

CONTAINER "*" sets the image of every container.

Examples:
  ordo set image sts/web app=ordo.local/busybox:v2
  ordo set image statefulset web '*=ordo.local/busybox:latest'
`

// setName reads the one StatefulSet a rollout command works on: "sts/NAME"
// or "sts NAME".
func setName(cmd string, pos []string) (string, []string, error) {
	if len(pos) == 0 {
		return "", nil, usagef("ordo %s needs a statefulset: ordo %s sts/NAME", cmd, cmd)
	}
	k, name, slash := strings.Cut(pos[0], "/")
	rest := pos[1:]
	if !slash {
		if len(rest) == 0 {
			return "", nil, usagef("ordo %s needs a statefulset name: ordo %s sts/NAME", cmd, cmd)
		}
		name, rest = rest[0], rest[1:]
	}
	if kind, ok := kinds.Lookup(k); !ok || kind.Name != kindStatefulSet {
		return "", nil, usagef("ordo %s works on statefulsets, not %q", cmd, k)
	}
	if name == "" {
		return "", nil, usagef("%q: missing name after /", pos[0])
	}
	return name, rest, nil
}

func (a *app) rollout(ctx context.Context, args *args) error {
	if len(args.pos) == 0 {
		return usagef("ordo rollout needs a subcommand: status, history, undo or restart")
	}
	sub := args.pos[0]
	cmd := "rollout " + sub
	var accepted []string
	switch sub {
	case "status":
		accepted = []string{"namespace", "watch"}
	case "history":
		accepted = []string{"namespace", "revision"}
	case "undo":
		accepted = []string{"namespace", "to-revision"}
	case "restart":
		accepted = []string{"namespace"}
	default:
		return usagef("unknown rollout subcommand %q (status, history, undo, restart)", sub)
	}
	if err := args.only(cmd, accepted...); err != nil {
		return err
	}
	name, rest, err := setName(cmd, args.pos[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("ordo %s takes one statefulset, got also %q", cmd, rest)
	}
	ns := namespaceOf(args)
	c, err := a.dial()
	if err != nil {
		return err
	}
	switch sub {
	case "status":
		watch := true
		if _, given := args.bools["watch"]; given {
			watch = args.bools["watch"]
		}
		return a.rolloutStatus(ctx, c, ns, name, watch)
	case "history":
		rev, err := intFlag(args, "revision")
		if err != nil {
			return err
		}
		return a.rolloutHistory(ctx, c, ns, name, rev)
	case "undo":
		to, err := intFlag(args, "to-revision")
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		resp, err := c.RolloutUndo(cctx, &ordov1.RolloutUndoRequest{Name: name, Namespace: ns, ToRevision: to})
		if err != nil {
			return a.rpcError(err)
		}
		fmt.Fprintf(a.stdout, "statefulset.apps/%s rolled back to revision %d\n", name, resp.GetRevision().GetRevision())
		return nil
	default: // restart
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		if _, err := c.RolloutRestart(cctx, &ordov1.RolloutRestartRequest{Name: name, Namespace: ns}); err != nil {
			return a.rpcError(err)
		}
		fmt.Fprintf(a.stdout, "statefulset.apps/%s restarted\n", name)
		return nil
	}
}

// intFlag reads a non-negative integer flag; absent is 0.
func intFlag(args *args, name string) (int64, error) {
	s := args.value(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, usagef("--%s: %q is not a revision number", name, s)
	}
	return n, nil
}

// rolloutStatus prints a line for every change of the rollout's state. A
// failed rollout is an error (exit status 1) carrying the reason.
func (a *app) rolloutStatus(ctx context.Context, c ordov1.ControlClient, ns, name string, watch bool) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.RolloutStatus(cctx, &ordov1.RolloutStatusRequest{Name: name, Namespace: ns, Watch: watch})
	if err != nil {
		return a.rpcError(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if st, ok := status.FromError(err); ok && st.Code() == codes.FailedPrecondition {
				return errors.New(st.Message())
			}
			return a.rpcError(err)
		}
		if resp.GetFailed() {
			return errors.New(resp.GetMessage())
		}
		fmt.Fprintln(a.stdout, resp.GetMessage())
		if resp.GetDone() {
			return nil
		}
	}
}

func (a *app) rolloutHistory(ctx context.Context, c ordov1.ControlClient, ns, name string, revision int64) error {
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.RolloutHistory(cctx, &ordov1.RolloutHistoryRequest{Name: name, Namespace: ns})
	if err != nil {
		return a.rpcError(err)
	}
	revs := resp.GetRevisions()
	sort.SliceStable(revs, func(i, j int) bool { return revs[i].GetRevision() < revs[j].GetRevision() })
	if revision > 0 {
		for _, r := range revs {
			if r.GetRevision() != revision {
				continue
			}
			fmt.Fprintf(a.stdout, "statefulset.apps/%s with revision #%d\n", name, revision)
			d := &describer{w: a.stdout, now: a.now()}
			d.kv(0, "Revision", "%s", r.GetMetadata().GetName())
			d.kv(0, "Change Cause", "%s", orNone(r.GetChangeCause()))
			d.section(0, "Pod Template")
			t := r.GetTemplate()
			d.kv(1, "Labels", "%s", formatLabels(t.GetMetadata().GetLabels()))
			if len(t.GetMetadata().GetAnnotations()) > 0 {
				d.kv(1, "Annotations", "%s", formatLabels(t.GetMetadata().GetAnnotations()))
			}
			d.podSpec(1, t.GetSpec(), nil)
			return nil
		}
		return fmt.Errorf("unable to find the specified revision %d of statefulset %s", revision, name)
	}
	fmt.Fprintf(a.stdout, "statefulset.apps/%s\n", name)
	t := &table{}
	var rows [][]string
	for _, r := range revs {
		rows = append(rows, []string{strconv.FormatInt(r.GetRevision(), 10), orNone(r.GetChangeCause())})
	}
	t.write(a.stdout, []string{"REVISION", "CHANGE-CAUSE"}, rows)
	return nil
}

// setImage is `ordo set image sts/NAME CONTAINER=IMAGE...`.
func (a *app) set(ctx context.Context, args *args) error {
	if len(args.pos) == 0 || args.pos[0] != "image" {
		return usagef("ordo set needs a subcommand: ordo set image sts/NAME CONTAINER=IMAGE")
	}
	if err := args.only("set image", "namespace"); err != nil {
		return err
	}
	name, rest, err := setName("set image", args.pos[1:])
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("ordo set image needs CONTAINER=IMAGE")
	}
	images := map[string]string{}
	for _, kv := range rest {
		cn, img, ok := strings.Cut(kv, "=")
		if !ok || cn == "" || img == "" {
			return usagef("%q: expected CONTAINER=IMAGE", kv)
		}
		images[cn] = img
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if _, err := c.SetImage(cctx, &ordov1.SetImageRequest{Name: name, Namespace: namespaceOf(args), Images: images}); err != nil {
		return a.rpcError(err)
	}
	fmt.Fprintf(a.stdout, "statefulset.apps/%s image updated\n", name)
	return nil
}
