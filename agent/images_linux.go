package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	containerd "github.com/containerd/containerd/v2/client"
)

// ImportImages loads OCI or Docker image archives (as `ctr images import`
// and `docker save` write them) into the agent's containerd namespace, so
// that a node without a reachable registry can run the images its pods
// name. It returns the names imported; an archive that cannot be read or
// holds no named image is an error that names the file.
func ImportImages(ctx context.Context, client *containerd.Client, files []string, log *slog.Logger) ([]string, error) {
	var names []string
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return names, fmt.Errorf("import image archive: %w", err)
		}
		imgs, err := client.Import(ctx, r, containerd.WithAllPlatforms(false))
		r.Close()
		if err != nil {
			return names, fmt.Errorf("import image archive %s: %w", f, err)
		}
		if len(imgs) == 0 {
			return names, fmt.Errorf("import image archive %s: it names no image (tag it when you save it)", f)
		}
		for _, img := range imgs {
			names = append(names, img.Name)
			log.Info("image imported", "image", img.Name, "archive", f, "digest", img.Target.Digest.String())
		}
	}
	return names, nil
}
