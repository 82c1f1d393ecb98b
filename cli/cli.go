// Package cli is the ordo command: kubectl-like apply, get, describe, scale and
// delete against the scheduler's Control gRPC service.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Version is the ordo version, set at build time with
// -ldflags "-X github.com/ordoproject/ordo/cli.Version=v0.1.0".
var Version = "dev"

// DefaultAddress is the scheduler address used when neither --server nor
// $ORDO_ADDR is given.
const DefaultAddress = "unix:///run/ordo/ordo.sock"

// requestTimeout bounds every unary call.
const requestTimeout = 30 * time.Second

// Run runs the ordo command with args (without the program name), reading
// stdin from os.Stdin. It returns the exit status: 0 success, 1 error, 2 usage.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return RunIO(ctx, args, os.Stdin, stdout, stderr)
}

// RunIO is Run with an explicit standard input (for `apply -f -`).
func RunIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now, getenv: os.Getenv}
	return a.run(ctx, args)
}

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	getenv         func(string) string

	addr   string
	conn   *grpc.ClientConn
	client ordov1.ControlClient
}

func (a *app) run(ctx context.Context, argv []string) int {
	args, err := parseArgs(argv)
	if err == nil && len(args.pos) == 0 {
		if args.bools["help"] {
			io.WriteString(a.stdout, usage)
			return 0
		}
		err = usagef("no command given")
	}
	if err != nil {
		return a.fail(err)
	}
	cmd, rest := args.pos[0], args.pos[1:]
	args.pos = rest
	if args.bools["help"] || cmd == "help" {
		topic := cmd
		if cmd == "help" && len(rest) > 0 {
			topic = rest[0]
		}
		text, ok := commandHelp[topic]
		if !ok {
			text = usage
		}
		io.WriteString(a.stdout, text)
		return 0
	}
	a.addr = args.value("server")
	if a.addr == "" {
		a.addr = a.getenv("ORDO_ADDR")
	}
	if a.addr == "" {
		a.addr = DefaultAddress
	}
	defer func() {
		if a.conn != nil {
			a.conn.Close()
		}
	}()
	switch cmd {
	case "apply":
		err = a.apply(ctx, args)
	case "get":
		err = a.get(ctx, args)
	case "describe":
		err = a.describe(ctx, args)
	case "scale":
		err = a.scale(ctx, args)
	case "delete":
		err = a.delete(ctx, args)
	case "rollout":
		err = a.rollout(ctx, args)
	case "set":
		err = a.set(ctx, args)
	case "version":
		if err = args.only("version"); err == nil {
			fmt.Fprintf(a.stdout, "ordo version %s %s %s/%s\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
	default:
		err = usagef("unknown command %q", cmd)
	}
	if err != nil {
		return a.fail(err)
	}
	return 0
}

// fail prints err as "error: <message>", a line for each line of the
// message, and returns the exit status.
func (a *app) fail(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "error: %s\nSee 'ordo help'.\n", ue.msg)
		return 2
	}
	var se *silentError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) {
		return 1
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(a.stderr, "error: %s\n", line)
	}
	return 1
}

// rpcError turns a gRPC error into the message a user should see.
func (a *app) rpcError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if st.Code() == codes.Unavailable {
		return fmt.Errorf("cannot reach the ordo scheduler at %s (set --server or ORDO_ADDR): %s", a.addr, st.Message())
	}
	if st.Code() == codes.Canceled {
		return context.Canceled
	}
	return errors.New(st.Message())
}

// target turns an address as users write it into a gRPC target:
// unix:///path, /path, host:port, tcp://host:port.
func target(addr string) string {
	switch {
	case strings.HasPrefix(addr, "/"):
		return "unix://" + addr
	case strings.HasPrefix(addr, "tcp://"):
		return "passthrough:///" + strings.TrimPrefix(addr, "tcp://")
	case strings.HasPrefix(addr, "unix:"), strings.Contains(addr, ":///"):
		return addr
	}
	return "passthrough:///" + addr
}

func (a *app) dial() (ordov1.ControlClient, error) {
	if a.client != nil {
		return a.client, nil
	}
	conn, err := grpc.NewClient(target(a.addr), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("scheduler address %q: %w", a.addr, err)
	}
	a.conn = conn
	a.client = ordov1.NewControlClient(conn)
	return a.client, nil
}

// namespaceOf is the namespace to use for named objects: --namespace, or
// the default namespace.
func namespaceOf(args *args) string { return identity.NamespaceOr(args.value("namespace")) }

// ---------------------------------------------------------------- apply

type manifestFile struct {
	name string
	data []byte
}

// readManifests reads every -f: a file, "-" for stdin, or a directory (its
// *.yaml, *.yml and *.json files in name order).
func (a *app) readManifests(args *args) ([]manifestFile, error) {
	names := args.vals["filename"]
	if len(names) == 0 {
		return nil, usagef("-f FILE is required")
	}
	var out []manifestFile
	for _, name := range names {
		if name == "-" {
			data, err := io.ReadAll(a.stdin)
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			out = append(out, manifestFile{"<stdin>", data})
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			data, err := os.ReadFile(name)
			if err != nil {
				return nil, err
			}
			out = append(out, manifestFile{name, data})
			continue
		}
		entries, err := os.ReadDir(name)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
				continue
			}
			p := filepath.Join(name, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, manifestFile{p, data})
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no .yaml, .yml or .json files", name)
		}
	}
	return out, nil
}

// decodeAll checks every manifest locally, so that a mistake in any file
// changes nothing. Every problem of every file is reported, each on its own
// line naming the file.
func decodeAll(files []manifestFile) ([]*manifest.Result, error) {
	var out []*manifest.Result
	var problems []string
	for _, f := range files {
		res, err := manifest.Decode(f.data)
		if err != nil {
			var merr *manifest.Error
			if errors.As(err, &merr) {
				for _, p := range merr.Problems {
					problems = append(problems, f.name+": "+p)
				}
				continue
			}
			problems = append(problems, f.name+": "+err.Error())
			continue
		}
		out = append(out, res)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return out, nil
}

func (a *app) apply(ctx context.Context, args *args) error {
	if err := args.only("apply", "filename", "dry-run", "namespace"); err != nil {
		return err
	}
	if len(args.pos) > 0 {
		return usagef("apply takes no arguments besides -f (got %q)", args.pos[0])
	}
	files, err := a.readManifests(args)
	if err != nil {
		return err
	}
	decoded, err := decodeAll(files)
	if err != nil {
		return err
	}
	// Fields and objects accepted without effect, as kubectl prints the
	// API server's warnings.
	warned := map[string]bool{}
	warn := func(ws []string) {
		for _, w := range ws {
			if !warned[w] {
				warned[w] = true
				fmt.Fprintf(a.stderr, "Warning: %s\n", w)
			}
		}
	}
	for _, res := range decoded {
		warn(res.Warnings)
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	dry := args.bools["dry-run"]
	for i, f := range files {
		if len(decoded[i].Objects) == 0 {
			continue // only objects that are not stored
		}
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		resp, err := c.Apply(cctx, &ordov1.ApplyRequest{Objects: decoded[i].Objects, DryRun: dry, Warnings: decoded[i].Warnings})
		cancel()
		if err != nil {
			err = a.rpcError(err)
			if len(files) > 1 {
				err = fmt.Errorf("%s: %w", f.name, err)
			}
			return err
		}
		warn(resp.GetWarnings())
		for _, r := range resp.GetResults() {
			suffix := ""
			if dry {
				suffix = " (dry run)"
			}
			fmt.Fprintf(a.stdout, "%s/%s %s%s\n", lowerKind(r.GetKind()), r.GetName(), r.GetAction(), suffix)
		}
	}
	return nil
}

// ---------------------------------------------------------------- get

func (a *app) get(ctx context.Context, args *args) error {
	if err := args.only("get", "namespace", "all-namespaces", "output", "selector", "watch"); err != nil {
		return err
	}
	k, names, err := kindAndNames("get", args.pos)
	if err != nil {
		return err
	}
	format := args.value("output")
	switch format {
	case "", "wide", "json", "yaml", "name":
	default:
		return usagef("unknown output format %q (supported: json, yaml, wide, name)", format)
	}
	sel, err := parseSelector(args.value("selector"))
	if err != nil {
		return err
	}
	ns := namespaceOf(args)
	if args.bools["all-namespaces"] || !k.Namespaced {
		ns = ""
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	// With --watch, the stream is opened before listing so that no change
	// between the list and the first event is missed.
	var stream ordov1.Control_WatchClient
	if args.bools["watch"] {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if stream, err = c.Watch(wctx, &ordov1.WatchRequest{Kinds: []string{k.Name}, Namespace: ns}); err != nil {
			return a.rpcError(err)
		}
	}
	var items []item
	if len(names) > 0 {
		for _, n := range names {
			it, _, err := a.getOne(ctx, k, namespaceOf(args), n)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
	} else {
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		resp, err := c.List(cctx, &ordov1.ListRequest{Kind: k.Name, Namespace: ns, LabelSelector: sel})
		cancel()
		if err != nil {
			return a.rpcError(err)
		}
		for _, it := range listItems(k, resp) {
			if matchesSelector(it.meta, sel) {
				items = append(items, it)
			}
		}
	}
	t := &table{}
	if args.bools["watch"] && k.Name == kindPod {
		// Leave room for the statuses a watch is likely to print later.
		t.fit(withNamespace(ns == "", &ordov1.ObjectMeta{}, []string{"", "", "ContainerCreating", "", "", ""}))
	}
	if err := a.printItems(k.Name, format, items, len(names) == 1, t, ns); err != nil {
		return err
	}
	if stream == nil {
		return nil
	}
	return a.watch(ctx, stream, k, ns, names, sel, format, t)
}

func (a *app) getOne(ctx context.Context, k *kinds.Kind, ns, name string) (item, *ordov1.GetResponse, error) {
	c, err := a.dial()
	if err != nil {
		return item{}, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if k.Name == kinds.Endpoints {
		return a.getEndpoints(cctx, c, ns, name)
	}
	resp, err := c.Get(cctx, &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: k.Name, Name: name, Namespace: ns}})
	if err != nil {
		return item{}, nil, a.rpcError(err)
	}
	m := k.FromGet(resp)
	it := item{k.Name, m, kinds.Meta(m)}
	if it.meta == nil {
		return item{}, nil, fmt.Errorf("%s %q: the scheduler returned no object", lowerKind(k.Name), name)
	}
	return it, resp, nil
}

func (a *app) printItems(kind, format string, items []item, single bool, t *table, ns string) error {
	switch format {
	case "json", "yaml":
		b, err := encodeItems(format, items, single)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(b)
		return err
	case "name":
		for _, it := range items {
			fmt.Fprintln(a.stdout, it.name())
		}
		return nil
	}
	namespaced := kinds.MustLookup(kind).Namespaced
	if len(items) == 0 {
		if !namespaced || ns == "" {
			fmt.Fprintln(a.stderr, "No resources found")
		} else {
			fmt.Fprintf(a.stderr, "No resources found in %s namespace.\n", ns)
		}
		return nil
	}
	now := a.now()
	allNS := ns == "" && namespaced
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, withNamespace(allNS, it.meta, it.row(now, format == "wide")))
	}
	t.write(a.stdout, withNamespace(allNS, nil, header(kind, format == "wide")), rows)
	return nil
}

// withNamespace prepends the NAMESPACE column when listing all namespaces.
func withNamespace(allNS bool, meta *ordov1.ObjectMeta, row []string) []string {
	if !allNS {
		return row
	}
	first := "NAMESPACE"
	if meta != nil {
		first = meta.GetNamespace()
	}
	return append([]string{first}, row...)
}

// watch prints a line for every change of the listed objects until ctx ends.
func (a *app) watch(ctx context.Context, stream ordov1.Control_WatchClient, k *kinds.Kind, ns string, names []string, sel map[string]string, format string, t *table) error {
	allNS := ns == "" && k.Namespaced
	if len(t.widths) == 0 && format != "json" && format != "yaml" && format != "name" {
		t.fit(withNamespace(allNS, nil, header(k.Name, format == "wide")))
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return a.rpcError(err)
		}
		if ev.GetType() == ordov1.EventType_EVENT_TYPE_UNSPECIFIED {
			continue // a recorded event (Created, Scaled, ...), not an object change
		}
		it, ok := eventItem(ev)
		if !ok || it.kind != k.Name || !matchesSelector(it.meta, sel) {
			continue
		}
		if len(want) > 0 && !want[it.meta.GetName()] {
			continue
		}
		switch format {
		case "json", "yaml":
			b, err := compactJSON(it.msg)
			if err != nil {
				return err
			}
			if format == "yaml" {
				y, err := encodeItems("yaml", []item{it}, true)
				if err != nil {
					return err
				}
				b = append([]byte("---\n"), y...)
			} else {
				b = append(b, '\n')
			}
			a.stdout.Write(b)
		case "name":
			fmt.Fprintln(a.stdout, it.name())
		default:
			row := it.row(a.now(), format == "wide")
			if ev.GetType() == ordov1.EventType_EVENT_TYPE_DELETED && k.Name == kindPod {
				row[2] = "Deleted"
			}
			row = withNamespace(allNS, it.meta, row)
			t.fit(row)
			if !t.headed {
				// The list was empty: the first change brings the header.
				h := withNamespace(allNS, nil, header(k.Name, format == "wide"))
				t.fit(h)
				io.WriteString(a.stdout, t.line(h))
				t.headed = true
			}
			io.WriteString(a.stdout, t.line(row))
		}
	}
}

// ---------------------------------------------------------------- scale

func (a *app) scale(ctx context.Context, args *args) error {
	if err := args.only("scale", "replicas", "namespace"); err != nil {
		return err
	}
	k, names, err := kindAndNames("scale", args.pos)
	if err != nil {
		return err
	}
	if k.Name != kindStatefulSet {
		return usagef("only statefulsets can be scaled")
	}
	if len(names) != 1 {
		return usagef("ordo scale needs exactly one statefulset name: ordo scale sts/NAME --replicas=N")
	}
	rs := args.value("replicas")
	if rs == "" {
		return usagef("--replicas=N is required")
	}
	n, err := strconv.ParseInt(rs, 10, 32)
	if err != nil {
		return usagef("--replicas: %q is not a number", rs)
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if _, err := c.Scale(cctx, &ordov1.ScaleRequest{Name: names[0], Namespace: namespaceOf(args), Replicas: int32(n)}); err != nil {
		return a.rpcError(err)
	}
	fmt.Fprintf(a.stdout, "statefulset/%s scaled\n", names[0])
	return nil
}

// ---------------------------------------------------------------- delete

func (a *app) delete(ctx context.Context, args *args) error {
	if err := args.only("delete", "filename", "namespace"); err != nil {
		return err
	}
	type ref struct{ kind, ns, name string }
	var refs []ref
	if args.has("filename") {
		if len(args.pos) > 0 {
			return usagef("give either -f FILE or KIND NAME, not both")
		}
		files, err := a.readManifests(args)
		if err != nil {
			return err
		}
		decoded, err := decodeAll(files)
		if err != nil {
			return err
		}
		for _, res := range decoded {
			for _, o := range res.Objects {
				kind, ns, name := manifest.Ref(o)
				refs = append(refs, ref{kind, ns, name})
			}
		}
		// Delete sets before the services that name them.
		sort.SliceStable(refs, func(i, j int) bool {
			return refs[i].kind == kindStatefulSet && refs[j].kind != kindStatefulSet
		})
	} else {
		k, names, err := kindAndNames("delete", args.pos)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return usagef("ordo delete needs a name: ordo delete %s NAME", lowerKind(k.Name))
		}
		for _, n := range names {
			refs = append(refs, ref{k.Name, namespaceOf(args), n})
		}
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	var failed error
	for _, r := range refs {
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		_, err := c.Delete(cctx, &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: r.kind, Namespace: r.ns, Name: r.name}})
		cancel()
		if err != nil {
			// Keep going, as kubectl does; report every failure.
			err = a.rpcError(err)
			if errors.Is(err, context.Canceled) {
				return err
			}
			fmt.Fprintf(a.stderr, "error: %s\n", err)
			failed = errSilent
			continue
		}
		fmt.Fprintf(a.stdout, "%s %q deleted\n", lowerKind(r.kind), r.name)
	}
	return failed
}

// errSilent is returned once the error was already printed.
var errSilent = &silentError{}

type silentError struct{}

func (*silentError) Error() string { return "" }
