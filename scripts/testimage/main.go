// Command testimage writes ordo's test images as OCI image layout archives,
// ready for `ctr -n ordo images import FILE`.
//
//	go run ./scripts/testimage -o bin/busybox-oci.tar \
//	    --tag ordo.local/busybox:latest --variant-tag ordo.local/busybox:v2
//
// Every --tag names the same image. Every --variant-tag names an image of its
// own whose content differs (its variant is the tag's text after the last
// colon), so it has a different digest: rollouts between two tags change the
// image a pod runs.
//
// With --app NAME it writes an application image built from Debian packages
// (internal/testimage.Apps: etcd, redis), named as the upstream image the
// tests' manifests use:
//
//	go run ./scripts/testimage --app etcd -o bin/etcd-oci.tar --cache bin/debian
//
// The packages are downloaded with apt into the cache directory (not
// installed) and kept there. --deb and --file describe an image of other
// packages the same way:
//
//	go run ./scripts/testimage -o out.tar --tag example.org/etcd:3.4 \
//	    --deb etcd-server --file /usr/bin/etcd --suite bookworm
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
	app := fs.String("app", "", "build the application image `NAME` from Debian packages ("+strings.Join(testimage.AppNames(), ", ")+")")
	var debs, files listFlag
	fs.Var(&debs, "deb", "Debian `PACKAGE` to build an application image from (repeatable)")
	fs.Var(&files, "file", "`PATH[:IMAGEPATH]` of a file of the --deb packages the image gets (repeatable; the first is the command)")
	suite := fs.String("suite", "", "Debian `SUITE` of the packages (default: the app's, else this machine's)")
	cache := fs.String("cache", "", "`DIR` for apt's state and the downloaded packages (default: the user cache directory)")
	sources := fs.String("sources", "", "deb822 sources `FILE` for apt (default: derived from /etc/apt for the suite)")
	refresh := fs.Bool("refresh", false, "update the package lists before downloading")
	quiet := fs.Bool("q", false, "do not show apt's progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 || (*app != "" && len(debs) > 0) || (len(variantTags) > 0 && (*app != "" || len(debs) > 0)) {
		fs.Usage()
		return errors.New("usage: testimage -o FILE [--tag NAME]... [--variant-tag NAME]... | --app NAME [--tag NAME]... | --deb PKG... --file PATH... --tag NAME...")
	}

	var buf bytes.Buffer
	if *app != "" || len(debs) > 0 {
		a, err := appSpec(*app, tags, debs, files)
		if err != nil {
			return err
		}
		if *suite != "" {
			a.Suite = *suite
		}
		if *cache == "" {
			dir, err := os.UserCacheDir()
			if err != nil {
				return err
			}
			*cache = filepath.Join(dir, "ordo", "debian")
		}
		deb := testimage.Debian{Dir: *cache, Sources: *sources, Refresh: *refresh, Log: os.Stderr}
		if *quiet {
			deb.Log = nil
		}
		if err := testimage.BuildApp(&buf, a, deb); err != nil {
			return err
		}
		return write(*out, buf.Bytes())
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
	if err := merge(&buf, images); err != nil {
		return err
	}
	return write(*out, buf.Bytes())
}

// appSpec is the named app (with other tags when given), or an image of the
// given packages and files whose command is the first file.
func appSpec(name string, tags, debs, files []string) (testimage.App, error) {
	if name != "" {
		a, ok := testimage.Apps[name]
		if !ok {
			return a, fmt.Errorf("no app %q (have %s)", name, strings.Join(testimage.AppNames(), ", "))
		}
		if len(tags) > 0 {
			a.Tags = tags
		}
		return a, nil
	}
	if len(files) == 0 || len(tags) == 0 {
		return testimage.App{}, errors.New("--deb needs --file and --tag")
	}
	a := testimage.App{Tags: tags, Packages: debs}
	for _, f := range files {
		from, to, _ := strings.Cut(f, ":")
		a.Files = append(a.Files, testimage.AppFile{From: from, To: to})
	}
	cmd := a.Files[0].To
	if cmd == "" {
		cmd = a.Files[0].From
	}
	a.Config.Env = []string{testimage.DefaultPath}
	a.Config.Cmd = []string{cmd}
	return a, nil
}

// write writes the archive to out (- for stdout), through a temporary file.
func write(out string, data []byte) error {
	if out == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
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
