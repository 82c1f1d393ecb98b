// Package testimage builds ordo's test image, ordo.local/busybox, from the host's
// static busybox, as an OCI image layout archive that containerd imports. No
// registry is needed.
package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultName is the test image's name.
const DefaultName = "ordo.local/busybox:latest"

// BusyboxPath is where the static busybox binary is read from.
var BusyboxPath = "/bin/busybox"

// Applets are linked to /bin/busybox in the image.
var Applets = []string{
	"sh", "hostname", "sleep", "httpd", "wget", "touch", "test", "cat", "echo", "ls",
	"nslookup", "nc", "ps", "kill", "mkdir", "rm", "env", "true", "false", "date", "id",
}

// Options tunes the image. Variant, when set, is written to /etc/ordo-variant and
// into the image config's labels, so that two variants have different digests.
type Options struct {
	Tags    []string
	Variant string
}

// Build writes an OCI image layout archive holding one image, named by every tag
// (DefaultName when none is given).
func Build(w io.Writer, tags ...string) error {
	return BuildWith(w, Options{Tags: tags})
}

// BuildWith is Build with options.
func BuildWith(w io.Writer, o Options) error {
	if len(o.Tags) == 0 {
		o.Tags = []string{DefaultName}
	}
	epoch := time.Unix(0, 0).UTC()
	layer, err := rootfsLayer(epoch, o.Variant)
	if err != nil {
		return err
	}
	labels := map[string]string{}
	if o.Variant != "" {
		labels["dev.ordo.variant"] = o.Variant
	}
	return writeLayout(w, layer, ocispec.ImageConfig{
		Env:    []string{"PATH=/bin"},
		Cmd:    []string{"sh"},
		Labels: labels,
	}, o.Tags)
}

// writeLayout writes an OCI image layout archive of one image, named by every
// tag: one uncompressed layer, the image config and the manifest, all dated
// at the epoch, so the same input gives the same bytes.
func writeLayout(w io.Writer, layer []byte, config ocispec.ImageConfig, tags []string) error {
	epoch := time.Unix(0, 0).UTC()
	layerDigest := digest.FromBytes(layer)
	cfg := ocispec.Image{
		Created:  &epoch,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config:   config,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDigest}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	manifest := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageConfig,
			Digest:    digest.FromBytes(cfgJSON),
			Size:      int64(len(cfgJSON)),
		},
		Layers: []ocispec.Descriptor{{
			MediaType: ocispec.MediaTypeImageLayer,
			Digest:    layerDigest,
			Size:      int64(len(layer)),
		}},
	}
	manifest.SchemaVersion = 2
	manJSON, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	index := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	index.SchemaVersion = 2
	for _, tag := range tags {
		index.Manifests = append(index.Manifests, ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageManifest,
			Digest:    digest.FromBytes(manJSON),
			Size:      int64(len(manJSON)),
			Platform:  &ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
			Annotations: map[string]string{
				"io.containerd.image.name": tag,
				ocispec.AnnotationRefName:  tag,
			},
		})
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"blobs/sha256/" + layerDigest.Encoded(), layer},
		{"blobs/sha256/" + digest.FromBytes(cfgJSON).Encoded(), cfgJSON},
		{"blobs/sha256/" + digest.FromBytes(manJSON).Encoded(), manJSON},
		{"index.json", indexJSON},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// Import builds the image and imports it into containerd's namespace under tags
// (DefaultName when none is given), unpacked for the default snapshotter.
func Import(ctx context.Context, client *containerd.Client, namespace string, tags ...string) error {
	return ImportWith(ctx, client, namespace, Options{Tags: tags})
}

// ImportWith is Import with options.
func ImportWith(ctx context.Context, client *containerd.Client, namespace string, o Options) error {
	ctx = namespaces.WithNamespace(ctx, namespace)
	var buf bytes.Buffer
	if err := BuildWith(&buf, o); err != nil {
		return fmt.Errorf("build test image: %w", err)
	}
	imgs, err := client.Import(ctx, &buf)
	if err != nil {
		return fmt.Errorf("import test image: %w", err)
	}
	for _, img := range imgs {
		if err := containerd.NewImage(client, img).Unpack(ctx, ""); err != nil {
			return fmt.Errorf("unpack %s: %w", img.Name, err)
		}
	}
	return nil
}

func rootfsLayer(mtime time.Time, variant string) ([]byte, error) {
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin/", "etc/", "tmp/", "proc/", "sys/", "dev/", "root/", "var/", "var/www/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb)), ModTime: mtime}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bb); err != nil {
		return nil, err
	}
	for _, a := range Applets {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	etc := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
		"etc/group":  "root:x:0:\nnobody:x:65534:\n",
	}
	if variant != "" {
		etc["etc/ordo-variant"] = variant + "\n"
	}
	for _, name := range []string{"etc/group", "etc/ordo-variant", "etc/passwd"} {
		data, ok := etc[name]
		if !ok {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
