// Command testimage writes ordo's test image as an OCI image layout archive,
// ready for `ctr -n ordo images import FILE`.
//
//	go run ./scripts/testimage -o bin/busybox-oci.tar \
//	    --tag ordo.local/busybox:latest --variant-tag ordo.local/busybox:v2
//
// Every --tag names the same image. Every --variant-tag names an image of its
// own whose content differs (its variant is the tag's text after the last
// colon), so it has a different digest: rollouts between two tags change the
// image a pod runs.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ordoproject/ordo/internal/testimage"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("testimage", flag.ContinueOnError)
	out := fs.String("o", "", "write the archive to `FILE` (- for stdout)")
	var tags, variantTags listFlag
	fs.Var(&tags, "tag", "image `NAME` of the base image (repeatable; default "+testimage.DefaultName+")")
	fs.Var(&variantTags, "variant-tag", "image `NAME` of a variant image with its own digest (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("usage: testimage -o FILE [--tag NAME]... [--variant-tag NAME]...")
	}
	if len(tags) == 0 {
		tags = append(tags, testimage.DefaultName)
	}
	images := []testimage.Options{{Tags: tags}}
	for _, t := range variantTags {
		v := t[strings.LastIndex(t, ":")+1:]
		if v == "" || !strings.Contains(t, ":") {
			return fmt.Errorf("variant tag %q has no tag after ':'", t)
		}
		images = append(images, testimage.Options{Tags: []string{t}, Variant: v})
	}

	var buf bytes.Buffer
	if err := merge(&buf, images); err != nil {
		return err
	}
	if *out == "-" {
		_, err := os.Stdout.Write(buf.Bytes())
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, *out)
}

// merge builds every image and writes one OCI layout archive holding all of
// them: the union of their blobs and one index listing every tagged manifest.
func merge(w io.Writer, images []testimage.Options) error {
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	files := map[string]entry{}
	var index ocispec.Index
	for _, o := range images {
		var b bytes.Buffer
		if err := testimage.BuildWith(&b, o); err != nil {
			return fmt.Errorf("build %v: %w", o.Tags, err)
		}
		tr := tar.NewReader(&b)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if h.Name == "index.json" {
				var idx ocispec.Index
				if err := json.Unmarshal(data, &idx); err != nil {
					return fmt.Errorf("index of %v: %w", o.Tags, err)
				}
				if index.SchemaVersion == 0 {
					index = idx
					index.Manifests = nil
				}
				index.Manifests = append(index.Manifests, idx.Manifests...)
				continue
			}
			files[h.Name] = entry{h, data}
		}
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		e := files[n]
		if err := tw.WriteHeader(e.hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "index.json", Mode: 0o644, Size: int64(len(indexJSON)), ModTime: files[names[0]].hdr.ModTime}); err != nil {
		return err
	}
	if _, err := tw.Write(indexJSON); err != nil {
		return err
	}
	return tw.Close()
}
