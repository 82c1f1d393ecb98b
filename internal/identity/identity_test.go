package identity

import "testing"

func TestPodNameRoundTrip(t *testing.T) {
	for _, c := range []struct {
		set string
		ord int32
	}{{"web", 0}, {"web", 12}, {"my-db", 3}, {"a-1", 7}} {
		name := PodName(c.set, c.ord)
		set, ord, err := ParseOrdinal(name)
		if err != nil || set != c.set || ord != c.ord {
			t.Errorf("ParseOrdinal(%q) = %q, %d, %v; want %q, %d", name, set, ord, err, c.set, c.ord)
		}
	}
}

func TestParseOrdinalRejects(t *testing.T) {
	for _, name := range []string{"web", "web-", "-1", "web-x", "web-01", "web--1"} {
		if _, _, err := ParseOrdinal(name); err == nil {
			t.Errorf("ParseOrdinal(%q) accepted", name)
		}
	}
}

func TestContainerID(t *testing.T) {
	if got := ContainerID("default", "web-0", "nginx"); got != "web-0_nginx" {
		t.Errorf("got %q", got)
	}
	if got := ContainerID("team-a", "db-1", "pg"); got != "db-1_pg.team-a" {
		t.Errorf("got %q", got)
	}
}
