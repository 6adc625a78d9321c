package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image layout every app gets, the same as its Dockerfile's: one static
// binary on an empty base, a user database naming the non-root user, and the
// CA bundle the binary needs for TLS to PostgreSQL.
const (
	User      = "65532:65532"
	Port      = "8080/tcp"
	BinDir    = "/usr/local/bin"
	caBundle  = "/etc/ssl/certs/ca-certificates.crt"
	refLabel  = "org.opencontainers.image.ref.name"
	userFiles = "tools/image/rootfs/etc"
)

// Spec says what to build.
type Spec struct {
	Root     string // repository root
	App      string // report, reviewer, reward or console
	Tag      string // image tag, also the version label
	Revision string // commit the image is built from (label), may be empty
	Arch     string // GOARCH of the binary and the image
	CABundle string // host file copied to /etc/ssl/certs/ca-certificates.crt
}

// Build compiles the app and writes its image as an OCI layout into dir,
// replacing whatever was there.
func Build(ctx context.Context, s Spec, dir string) (v1.Hash, error) {
	work, err := os.MkdirTemp("", "govern-image-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, s.App)
	if err := compile(ctx, s, bin); err != nil {
		return v1.Hash{}, err
	}
	files, err := rootfs(s, bin)
	if err != nil {
		return v1.Hash{}, err
	}
	img, err := image(s, files)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refLabel: s.Tag})); err != nil {
		return v1.Hash{}, fmt.Errorf("write %s: %w", dir, err)
	}
	return img.Digest()
}

// compile builds the static binary exactly as the Dockerfile does.
func compile(ctx context.Context, s Spec, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, ".")
	cmd.Dir = filepath.Join(s.Root, "apps", s.App)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+s.Arch, "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", s.App, err)
	}
	return nil
}

type file struct {
	path string // inside the image, without leading slash
	mode int64
	body []byte
}

func rootfs(s Spec, bin string) ([]file, error) {
	var files []file
	for _, f := range []struct {
		dst, src string
		mode     int64
	}{
		{"etc/passwd", filepath.Join(s.Root, userFiles, "passwd"), 0o644},
		{"etc/group", filepath.Join(s.Root, userFiles, "group"), 0o644},
		{caBundle[1:], s.CABundle, 0o644},
		{BinDir[1:] + "/" + s.App, bin, 0o755},
	} {
		body, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		files = append(files, file{f.dst, f.mode, body})
	}
	return files, nil
}

// layerTar writes the files and their parent folders, owned by root with a
// fixed time, so the same inputs give the same layer digest.
func layerTar(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}
	epoch := time.Unix(0, 0)
	for _, f := range files {
		var dirs []string
		for d := filepath.Dir(f.path); d != "."; d = filepath.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			if seen[d] {
				continue
			}
			seen[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: f.mode, Size: int64(len(f.body)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func image(s Spec, files []file) (v1.Image, error) {
	raw, err := layerTar(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       s.App,
		"org.opencontainers.image.description": "govern " + s.App + " service (static Go binary, non-root)",
		"org.opencontainers.image.version":     s.Tag,
	}
	if s.Revision != "" {
		labels["org.opencontainers.image.revision"] = s.Revision
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: s.Arch,
		OS:           "linux",
		Config: v1.Config{
			User:         User,
			Entrypoint:   []string{BinDir + "/" + s.App},
			WorkingDir:   "/",
			ExposedPorts: map[string]struct{}{Port: {}},
			Env:          []string{"HTTP_ADDR=:8080"},
			Labels:       labels,
		},
	})
	if err != nil {
		return nil, err
	}
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: time.Unix(0, 0).UTC()})
}
