package main

import (
	"reflect"
	"testing"

	"github.com/ordoproject/ordo/internal/testimage"
)

func TestAppSpec(t *testing.T) {
	a, err := appSpec("etcd", nil, nil, nil)
	if err != nil || !reflect.DeepEqual(a.Tags, testimage.Apps["etcd"].Tags) {
		t.Fatalf("etcd = %+v %v", a, err)
	}
	if a, err = appSpec("etcd", []string{"example.org/etcd:x"}, nil, nil); err != nil || a.Tags[0] != "example.org/etcd:x" {
		t.Fatalf("etcd with a tag = %+v %v", a, err)
	}
	if _, err := appSpec("nope", nil, nil, nil); err == nil {
		t.Error("unknown app accepted")
	}
	a, err = appSpec("", []string{"example.org/x:1"}, []string{"etcd-server"}, []string{"/usr/bin/etcd:/usr/local/bin/etcd", "/usr/bin/etcdctl"})
	want := []testimage.AppFile{{From: "/usr/bin/etcd", To: "/usr/local/bin/etcd"}, {From: "/usr/bin/etcdctl"}}
	if err != nil || !reflect.DeepEqual(a.Files, want) || a.Config.Cmd[0] != "/usr/local/bin/etcd" || a.Packages[0] != "etcd-server" {
		t.Fatalf("ad hoc app = %+v %v", a, err)
	}
	if _, err := appSpec("", nil, []string{"etcd-server"}, nil); err == nil {
		t.Error("--deb without --file and --tag accepted")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--app", "etcd"},
		{"-o", "x.tar", "--app", "etcd", "--deb", "etcd-server"},
		{"-o", "x.tar", "--app", "etcd", "--variant-tag", "a:b"},
	} {
		if err := run(args); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}
