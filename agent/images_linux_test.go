package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/ordoproject/ordo/internal/testimage"
)

// An archive given to the agent is in containerd under its name afterwards;
// a missing file is an error naming it.
func TestImportImages(t *testing.T) {
	c := sharedContainerd(t)
	ctx := namespaces.WithNamespace(context.Background(), testNamespace)
	var buf bytes.Buffer
	if err := testimage.Build(&buf, "ordo.local/imported:v9"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "img.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	names, err := ImportImages(ctx, c.client, []string{file}, log)
	if err != nil || len(names) != 1 || !strings.HasSuffix(names[0], "ordo.local/imported:v9") {
		t.Fatalf("ImportImages = %v, %v", names, err)
	}
	if _, err := c.client.GetImage(ctx, names[0]); err != nil {
		t.Fatalf("imported image not in containerd: %v", err)
	}
	defer c.client.ImageService().Delete(ctx, names[0])
	if _, err := ImportImages(ctx, c.client, []string{file + ".missing"}, log); err == nil || !strings.Contains(err.Error(), "img.tar.missing") {
		t.Fatalf("missing archive: %v", err)
	}
}
