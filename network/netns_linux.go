package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Pod is what a pod gets from the network: the path of its network namespace
// and its IP ("" until pods get addresses of their own).
type Pod struct {
	NetNSPath string
	IP        string
}

// NetNS creates one bind-mounted network namespace per pod under Dir, with
// loopback up. It is the base that address assignment builds on.
type NetNS struct {
	Dir string // e.g. <state-dir>/netns
}

// Path is where the namespace of the pod with key lives.
func (n *NetNS) Path(key string) string { return filepath.Join(n.Dir, key) }

// Setup creates the pod's namespace, or reuses it when it already exists (an
// agent restart finds the namespaces of the pods it adopts).
func (n *NetNS) Setup(ctx context.Context, key string) (Pod, error) {
	p := n.Path(key)
	if IsNetNS(p) {
		return Pod{NetNSPath: p}, nil
	}
	if err := CreateNetNS(p); err != nil {
		return Pod{}, err
	}
	return Pod{NetNSPath: p}, nil
}

// Teardown removes the pod's namespace. A missing namespace is not an error.
func (n *NetNS) Teardown(ctx context.Context, key string) error {
	return DeleteNetNS(n.Path(key))
}

// IsNetNS reports whether path is a mounted network namespace.
func IsNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// CreateNetNS creates a new network namespace, bind-mounts it on path and brings
// its loopback interface up.
func CreateNetNS(path string) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create netns dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			_ = os.Remove(path)
		}
	}()

	errc := make(chan error, 1)
	// A fresh goroutine locked to its thread: when the thread cannot get back
	// to its namespace, the goroutine ends locked and Go discards the thread.
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer origin.Close()
		ns, err := netns.New() // unshare(CLONE_NEWNET) and setns to it
		if err != nil {
			errc <- fmt.Errorf("new netns: %w", err)
			runtime.UnlockOSThread()
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		err = unix.Mount(src, path, "none", unix.MS_BIND, "")
		if err != nil {
			err = fmt.Errorf("bind mount netns: %w", err)
		} else {
			err = loUp(ns)
		}
		ns.Close()
		if rerr := netns.Set(origin); rerr != nil {
			errc <- errors.Join(err, fmt.Errorf("restore netns: %w", rerr))
			return // stays locked: the thread is dropped
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	err = <-errc
	if err != nil {
		_ = unix.Unmount(path, unix.MNT_DETACH)
	}
	return err
}

func loUp(ns netns.NsHandle) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in netns: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// DeleteNetNS unmounts and removes a namespace created by CreateNetNS.
func DeleteNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns %s: %w", path, err)
	}
	return nil
}

// Dialer returns a DialContext function whose connections are made from inside
// the network namespace at nsPath (an empty path dials from the caller's namespace).
func Dialer(nsPath string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return DialContext(ctx, nsPath, network, addr)
	}
}

// DialContext dials addr from inside the network namespace at nsPath. The socket
// is created in that namespace; once connected it works from any thread.
func DialContext(ctx context.Context, nsPath, network, addr string) (net.Conn, error) {
	var d net.Dialer
	if nsPath == "" {
		return d.DialContext(ctx, network, addr)
	}
	type result struct {
		c   net.Conn
		err error
	}
	resc := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			resc <- result{err: fmt.Errorf("get current netns: %w", err)}
			return
		}
		defer origin.Close()
		target, err := netns.GetFromPath(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			resc <- result{err: fmt.Errorf("open netns %s: %w", nsPath, err)}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			resc <- result{err: fmt.Errorf("enter netns %s: %w", nsPath, err)}
			return
		}
		c, err := d.DialContext(ctx, network, addr)
		if rerr := netns.Set(origin); rerr != nil {
			if c != nil {
				c.Close()
			}
			resc <- result{err: fmt.Errorf("restore netns: %w", rerr)}
			return // stays locked: the thread is dropped
		}
		runtime.UnlockOSThread()
		resc <- result{c, err}
	}()
	r := <-resc
	return r.c, r.err
}
