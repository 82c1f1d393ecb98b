package agent

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// freePort is a TCP and UDP port nothing listens on (at the time of asking).
func freePort(t *testing.T) int32 {
	t.Helper()
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			pc.Close()
			return int32(port)
		}
	}
	t.Fatal("no free port")
	return 0
}

func TestHostPortMappings(t *testing.T) {
	spec := &ordov1.PodSpec{
		InitContainers: []*ordov1.Container{{Name: "side", Ports: []*ordov1.ContainerPort{{ContainerPort: 9000, HostPort: 19000, Protocol: "UDP"}}}},
		Containers: []*ordov1.Container{{Name: "app", Ports: []*ordov1.ContainerPort{
			{ContainerPort: 80}, {ContainerPort: 8080, HostPort: 18080, HostIp: "10.0.0.1"},
		}}},
	}
	got := hostPortMappings(spec)
	want := []hostPortMapping{{"udp", "", 19000, 9000}, {"tcp", "10.0.0.1", 18080, 8080}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("mappings = %+v, want %+v", got, want)
	}
	if s := got[1].String(); s != "hostPort 18080/TCP on 10.0.0.1" {
		t.Errorf("String = %q", s)
	}
}

func TestHostPortsForwardTCPAndUDP(t *testing.T) {
	// The "pod": echo servers on the loopback.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	up, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, a, err := up.ReadFrom(buf)
			if err != nil {
				return
			}
			up.WriteTo(append([]byte("echo:"), buf[:n]...), a)
		}
	}()
	tcpPort, udpPort := freePort(t), freePort(t)
	h, err := openHostPorts([]hostPortMapping{
		{"tcp", "127.0.0.1", tcpPort, int32(tl.Addr().(*net.TCPAddr).Port)},
		{"udp", "127.0.0.1", udpPort, int32(up.LocalAddr().(*net.UDPAddr).Port)},
	}, "", "127.0.0.1", slog.Default())
	if err != nil {
		t.Fatal(err)
	}

	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(tcpPort))))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("hello\n"))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "hello\n" {
		t.Errorf("tcp echo = %q %v", line, err)
	}
	u, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(udpPort))))
	if err != nil {
		t.Fatal(err)
	}
	u.SetDeadline(time.Now().Add(5 * time.Second))
	u.Write([]byte("ping"))
	buf := make([]byte, 100)
	n, err := u.Read(buf)
	if err != nil || string(buf[:n]) != "echo:ping" {
		t.Errorf("udp echo = %q %v", buf[:n], err)
	}

	// A port in use is refused with what to look at, keeping nothing open.
	if _, err := openHostPorts([]hostPortMapping{{"tcp", "127.0.0.1", tcpPort, 1}}, "", "", slog.Default()); err == nil {
		t.Error("second listener on the same host port")
	}
	h.Close() // ends the open connection too
	if _, err := c.Read(buf); err == nil {
		t.Error("forwarded connection still open after Close")
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(tcpPort))))
	if err != nil {
		t.Fatalf("host port not released: %v", err)
	}
	l.Close()
}
