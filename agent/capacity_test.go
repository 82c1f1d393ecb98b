package agent

import (
	"strings"
	"testing"
)

func TestMemTotalAndAllocatable(t *testing.T) {
	mi := "MemFree:         1000 kB\nMemTotal:       24683548 kB\n"
	if got := memTotal(strings.NewReader(mi)); got != 24683548*1024 {
		t.Errorf("memTotal = %d", got)
	}
	if got := memTotal(strings.NewReader("nothing\n")); got != 0 {
		t.Errorf("memTotal without the line = %d", got)
	}
	for _, c := range []struct{ capacity, reserved, want int64 }{
		{4000, 500, 3500}, {4000, 0, 4000}, {4000, 5000, 0}, {0, 500, 0}, {4000, -1, 4000},
	} {
		if got := allocatable(c.capacity, c.reserved); got != c.want {
			t.Errorf("allocatable(%d, %d) = %d, want %d", c.capacity, c.reserved, got, c.want)
		}
	}
	c := nodeCapacity(7, 500, 512<<20)
	if c.GetMaxPods() != 7 || c.GetCpuMillis() < 1000 || c.GetAllocatableCpuMillis() != c.GetCpuMillis()-500 ||
		c.GetMemoryBytes() <= 512<<20 || c.GetAllocatableMemoryBytes() != c.GetMemoryBytes()-512<<20 {
		t.Errorf("capacity = %v", c)
	}
}
