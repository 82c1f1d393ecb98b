package network

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
)

func TestIPAMNoDuplicatesUnderConcurrency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipam.json")
	cidr := netip.MustParsePrefix("10.244.1.0/24")
	// Two IPAMs on the same file behave like two agents' processes: the file
	// lock keeps them apart, the mutex keeps goroutines apart.
	a, err := OpenIPAM(path, cidr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenIPAM(path, cidr)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	got := make([]netip.Addr, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := a
			if i%2 == 1 {
				m = b
			}
			ip, err := m.Allocate(fmt.Sprintf("pod-%d", i))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = ip
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]int{}
	for i, ip := range got {
		if j, dup := seen[ip]; dup {
			t.Fatalf("%s handed to pod-%d and pod-%d", ip, j, i)
		}
		seen[ip] = i
		if !cidr.Contains(ip) || ip == a.Gateway() || ip == cidr.Addr() || ip == netip.MustParseAddr("10.244.1.255") {
			t.Errorf("pod-%d got %s: not a pod address of %s", i, ip, cidr)
		}
	}
	// The same key keeps its address.
	again, err := b.Allocate("pod-7")
	if err != nil || again != got[7] {
		t.Errorf("Allocate(pod-7) again = %s, %v; want %s", again, err, got[7])
	}
}

func TestIPAMStableAcrossReopenAndReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipam.json")
	cidr := netip.MustParsePrefix("10.244.2.0/24")
	m, err := OpenIPAM(path, cidr)
	if err != nil {
		t.Fatal(err)
	}
	if m.Gateway() != netip.MustParseAddr("10.244.2.1") {
		t.Errorf("gateway %s", m.Gateway())
	}
	web0, _ := m.Allocate("web-0")
	web1, _ := m.Allocate("web-1")
	if web0 != netip.MustParseAddr("10.244.2.2") || web1 != netip.MustParseAddr("10.244.2.3") {
		t.Errorf("first addresses %s %s, want .2 and .3", web0, web1)
	}

	// A restarted agent finds the same allocations.
	m2, err := OpenIPAM(path, cidr)
	if err != nil {
		t.Fatal(err)
	}
	all, err := m2.Allocations()
	if err != nil || all["web-0"] != web0 || all["web-1"] != web1 || len(all) != 2 {
		t.Fatalf("after reopen: %v, %v", all, err)
	}
	web2, _ := m2.Allocate("web-2")
	if web2 == web0 || web2 == web1 {
		t.Fatalf("web-2 got %s, already held", web2)
	}
	if err := m2.Release("web-0"); err != nil {
		t.Fatal(err)
	}
	if err := m2.Release("web-0"); err != nil {
		t.Errorf("second release: %v", err)
	}
	if ip, _ := m2.Allocate("web-3"); ip != web0 {
		t.Errorf("web-3 got %s, want the released %s", ip, web0)
	}
	if err := m2.Reserve("web-4", web1); err == nil {
		t.Errorf("Reserve of an address held by web-1 succeeded")
	}
	if err := m2.Reserve("web-1", web1); err != nil {
		t.Errorf("Reserve by its holder: %v", err)
	}
}

func TestIPAMFull(t *testing.T) {
	m, err := OpenIPAM(filepath.Join(t.TempDir(), "ipam.json"), netip.MustParsePrefix("10.0.0.0/30"))
	if err != nil {
		t.Fatal(err)
	}
	// /30: network .0, gateway .1, one pod address .2, broadcast .3.
	if ip, err := m.Allocate("a"); err != nil || ip != netip.MustParseAddr("10.0.0.2") {
		t.Fatalf("Allocate(a) = %s, %v", ip, err)
	}
	if ip, err := m.Allocate("b"); err == nil {
		t.Fatalf("Allocate(b) = %s in a full block", ip)
	}
}
