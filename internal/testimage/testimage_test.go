package testimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func readIndex(t *testing.T, b []byte) ocispec.Index {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatal("archive has no index.json")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "index.json" {
			var idx ocispec.Index
			if err := json.NewDecoder(tr).Decode(&idx); err != nil {
				t.Fatal(err)
			}
			return idx
		}
	}
}

func TestBuildNamesEveryTagAndIsReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := Build(&a, "ordo.local/busybox:latest", "ordo.local/busybox:x"); err != nil {
		t.Fatal(err)
	}
	if err := Build(&b, "ordo.local/busybox:latest", "ordo.local/busybox:x"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two builds differ")
	}
	idx := readIndex(t, a.Bytes())
	if len(idx.Manifests) != 2 || idx.Manifests[1].Annotations["io.containerd.image.name"] != "ordo.local/busybox:x" {
		t.Fatalf("index manifests = %+v", idx.Manifests)
	}
}

func TestVariantChangesDigest(t *testing.T) {
	var a, b bytes.Buffer
	if err := Build(&a); err != nil {
		t.Fatal(err)
	}
	if err := BuildWith(&b, Options{Variant: "v2"}); err != nil {
		t.Fatal(err)
	}
	da, db := readIndex(t, a.Bytes()).Manifests[0].Digest, readIndex(t, b.Bytes()).Manifests[0].Digest
	if da == db {
		t.Errorf("variant image has the same digest %s", da)
	}
}
