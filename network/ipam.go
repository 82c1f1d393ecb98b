package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ordoproject/ordo/internal/errdefs"
)

// IPAM hands out the addresses of one pod CIDR and keeps them in a file, so
// that an address is never given to two pods, even across agent restarts.
// The first address of the block is the gateway (the node bridge); the network
// and broadcast addresses are never handed out. Every change is written to the
// file (atomically, under an exclusive flock) before it is returned.
type IPAM struct {
	path string
	mu   sync.Mutex
	cidr netip.Prefix
}

// ipamFile is the on-disk form: address -> owner key.
type ipamFile struct {
	CIDR        string            `json:"cidr"`
	Allocations map[string]string `json:"allocations"`
}

// OpenIPAM opens (creating when missing) the allocations of cidr kept at path.
// Allocations made for another block are dropped.
func OpenIPAM(path string, cidr netip.Prefix) (*IPAM, error) {
	cidr = cidr.Masked()
	if !cidr.Addr().Is4() || cidr.Bits() > 30 {
		return nil, errdefs.Invalid("pod_cidr", "%s: want an IPv4 block of /30 or larger", cidr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("ipam dir: %w", err)
	}
	m := &IPAM{path: path, cidr: cidr}
	err := m.update(func(f *ipamFile) error { return nil })
	return m, err
}

// Gateway is the first address of the block: the node bridge's.
func (m *IPAM) Gateway() netip.Addr { return m.cidr.Addr().Next() }

// CIDR is the block addresses come from.
func (m *IPAM) CIDR() netip.Prefix { return m.cidr }

// update runs fn on the allocations under the in-process and the file lock and
// writes them back.
func (m *IPAM) update(fn func(f *ipamFile) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	lock, err := os.OpenFile(m.path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("ipam lock: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("ipam lock: %w", err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)

	f := &ipamFile{}
	b, err := os.ReadFile(m.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read ipam: %w", err)
	default:
		if err := json.Unmarshal(b, f); err != nil {
			return fmt.Errorf("parse ipam %s: %w", m.path, err)
		}
	}
	if f.CIDR != m.cidr.String() {
		f = &ipamFile{CIDR: m.cidr.String()}
	}
	if f.Allocations == nil {
		f.Allocations = map[string]string{}
	}
	before, _ := json.Marshal(f)
	if err := fn(f); err != nil {
		return err
	}
	after, _ := json.Marshal(f)
	if string(before) == string(after) && len(b) > 0 {
		return nil
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, after, 0o644); err != nil {
		return fmt.Errorf("write ipam: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("write ipam: %w", err)
	}
	return nil
}

// Allocate returns the address of key, handing out the lowest free one when
// key has none yet.
func (m *IPAM) Allocate(key string) (netip.Addr, error) {
	var out netip.Addr
	err := m.update(func(f *ipamFile) error {
		for ip, k := range f.Allocations {
			if k == key {
				out = netip.MustParseAddr(ip)
				return nil
			}
		}
		for a := m.Gateway().Next(); m.cidr.Contains(a); a = a.Next() {
			if !m.cidr.Contains(a.Next()) {
				break // broadcast
			}
			if _, used := f.Allocations[a.String()]; !used {
				f.Allocations[a.String()] = key
				out = a
				return nil
			}
		}
		return fmt.Errorf("pod CIDR %s is full: %w", m.cidr, errdefs.ErrUnavailable)
	})
	return out, err
}

// Reserve records that key holds ip (a pod found with its address after a
// restart). It fails when another key holds ip.
func (m *IPAM) Reserve(key string, ip netip.Addr) error {
	return m.update(func(f *ipamFile) error {
		if !m.cidr.Contains(ip) || ip == m.Gateway() {
			return errdefs.Invalid("ip", "%s is not a pod address of %s", ip, m.cidr)
		}
		if k, ok := f.Allocations[ip.String()]; ok && k != key {
			return fmt.Errorf("%s is held by %s: %w", ip, k, errdefs.ErrConflict)
		}
		for a, k := range f.Allocations {
			if k == key {
				delete(f.Allocations, a)
			}
		}
		f.Allocations[ip.String()] = key
		return nil
	})
}

// Release frees the address of key (none is fine).
func (m *IPAM) Release(key string) error {
	return m.update(func(f *ipamFile) error {
		for ip, k := range f.Allocations {
			if k == key {
				delete(f.Allocations, ip)
			}
		}
		return nil
	})
}

// Allocations returns owner key -> address.
func (m *IPAM) Allocations() (map[string]netip.Addr, error) {
	out := map[string]netip.Addr{}
	err := m.update(func(f *ipamFile) error {
		for ip, k := range f.Allocations {
			out[k] = netip.MustParseAddr(ip)
		}
		return nil
	})
	return out, err
}

// Keys returns the owners holding addresses, sorted.
func (m *IPAM) Keys() ([]string, error) {
	a, err := m.Allocations()
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, err
}
