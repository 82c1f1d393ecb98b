package testimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// layerBuilder collects the entries of an image layer and writes them sorted
// by name, owned by root and dated at the epoch: the same entries give the
// same bytes. Parent directories are added as needed.
type layerBuilder struct {
	entries map[string]layerEntry
}

type layerEntry struct {
	hdr  tar.Header
	data []byte
}

func newLayer() *layerBuilder { return &layerBuilder{entries: map[string]layerEntry{}} }

// clean turns an image path ("/usr/bin/x", "usr/bin/x/") into a layer name
// without leading or trailing slashes.
func clean(p string) string { return strings.Trim(path.Clean("/"+p), "/") }

func (l *layerBuilder) put(name string, e layerEntry) error {
	name = clean(name)
	if name == "" {
		return nil
	}
	if old, ok := l.entries[name]; ok {
		if old.hdr.Typeflag == tar.TypeDir && e.hdr.Typeflag == tar.TypeDir {
			return nil
		}
		if old.hdr.Typeflag != e.hdr.Typeflag || old.hdr.Linkname != e.hdr.Linkname || !bytes.Equal(old.data, e.data) {
			return fmt.Errorf("image path /%s given twice, differently", name)
		}
		return nil
	}
	if dir := path.Dir(name); dir != "." {
		if parent, ok := l.entries[dir]; ok && parent.hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("image path /%s: /%s is not a directory", name, dir)
		}
		if err := l.Dir(dir, 0o755); err != nil {
			return err
		}
	}
	e.hdr.Name = name
	l.entries[name] = e
	return nil
}

// Dir adds a directory.
func (l *layerBuilder) Dir(name string, mode int64) error {
	return l.put(name, layerEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: mode}})
}

// File adds a regular file.
func (l *layerBuilder) File(name string, mode int64, data []byte) error {
	return l.put(name, layerEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data))}, data: data})
}

// Symlink adds a symbolic link.
func (l *layerBuilder) Symlink(name, target string) error {
	return l.put(name, layerEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Mode: 0o777, Linkname: target}})
}

// Has tells whether the layer has an entry at name.
func (l *layerBuilder) Has(name string) bool {
	_, ok := l.entries[clean(name)]
	return ok
}

// Bytes writes the layer as a tar archive.
func (l *layerBuilder) Bytes() ([]byte, error) {
	names := make([]string, 0, len(l.entries))
	for n := range l.entries {
		names = append(names, n)
	}
	// Sorting "a/" before "a/b" keeps every directory ahead of its contents.
	key := func(n string) string {
		if l.entries[n].hdr.Typeflag == tar.TypeDir {
			return n + "/"
		}
		return n
	}
	sort.Slice(names, func(i, j int) bool { return key(names[i]) < key(names[j]) })
	epoch := time.Unix(0, 0).UTC()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := l.entries[n]
		h := e.hdr
		h.ModTime = epoch
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if len(e.data) > 0 {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
