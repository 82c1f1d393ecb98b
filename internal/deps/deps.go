// Package deps pins the modules the project builds on until code imports them.
package deps

import (
	_ "github.com/containerd/containerd/v2/client"
	_ "github.com/containerd/containerd/v2/pkg/oci"
	_ "github.com/opencontainers/runtime-spec/specs-go"
	_ "github.com/vishvananda/netlink"
	_ "github.com/vishvananda/netns"
	_ "go.etcd.io/bbolt"
	_ "sigs.k8s.io/yaml"
	_ "google.golang.org/grpc/reflection"
)
