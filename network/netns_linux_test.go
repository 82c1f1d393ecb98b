package network

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("network namespace tests need root")
		}
		t.Skip("needs root to create network namespaces")
	}
}

// listenIn opens a TCP listener inside the namespace at path.
func listenIn(t *testing.T, path string) net.Listener {
	t.Helper()
	type res struct {
		l   net.Listener
		err error
	}
	c := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is dropped afterwards
		ns, err := netns.GetFromPath(path)
		if err != nil {
			c <- res{err: err}
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			c <- res{err: err}
			return
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		c <- res{l, err}
	}()
	r := <-c
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.l
}

func TestNetNSLifecycleAndDial(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	n := &NetNS{Dir: filepath.Join(t.TempDir(), "netns")}
	pod, err := n.Setup(ctx, "web-0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Teardown(ctx, "web-0") })
	if !IsNetNS(pod.NetNSPath) {
		t.Fatalf("%s is not a network namespace", pod.NetNSPath)
	}
	again, err := n.Setup(ctx, "web-0")
	if err != nil || again.NetNSPath != pod.NetNSPath {
		t.Fatalf("second Setup = %v, %v; want the same namespace", again, err)
	}

	ns, err := netns.GetFromPath(pod.NetNSPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := netlink.NewHandleAt(ns)
	ns.Close()
	if err != nil {
		t.Fatal(err)
	}
	lo, err := h.LinkByName("lo")
	h.Close()
	if err != nil {
		t.Fatal(err)
	}
	if lo.Attrs().Flags&net.FlagUp == 0 {
		t.Error("loopback is down in the pod namespace")
	}

	l := listenIn(t, pod.NetNSPath)
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := DialContext(ctx, pod.NetNSPath, "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial inside the pod namespace: %v", err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hi" {
		t.Errorf("read %q from the pod's listener", b)
	}
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Error("the pod's listener is reachable from the host namespace")
	}

	if err := n.Teardown(ctx, "web-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pod.NetNSPath); !os.IsNotExist(err) {
		t.Errorf("namespace file still there after Teardown: %v", err)
	}
	if err := n.Teardown(ctx, "web-0"); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
}
