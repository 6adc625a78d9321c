package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestImagesRunOurStaticBinaryAsNonRoot builds every app's image, reads the
// OCI layout back as a runtime would, and runs the binary it finds: started
// as in production with the public default JWT secret, it must refuse to
// start and say why, which proves the layer holds our service and that the
// static binary runs on a bare system.
func TestImagesRunOurStaticBinaryAsNonRoot(t *testing.T) {
	out := t.TempDir()
	ctx := t.Context()
	for _, app := range allApps {
		t.Run(app, func(t *testing.T) {
			dir := filepath.Join(out, app)
			spec := Spec{Root: "../..", App: app, Tag: "test", Arch: runtime.GOARCH, CABundle: "/etc/ssl/certs/ca-certificates.crt"}
			digest, err := Build(ctx, spec, dir)
			if err != nil {
				t.Fatal(err)
			}
			img := readLayout(t, dir, digest)
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			checkConfig(t, app, cfg)
			files := layerFiles(t, img)
			entry := cfg.Config.Entrypoint[0]
			bin, ok := files[strings.TrimPrefix(entry, "/")]
			if !ok {
				t.Fatalf("entrypoint %s is not in the image", entry)
			}
			if bin.Mode&0o111 == 0 || bin.Uid != 0 || bin.Mode&0o022 != 0 {
				t.Errorf("entrypoint mode %o uid %d: want executable, owned by root, not writable by the app's user", bin.Mode, bin.Uid)
			}
			if !strings.Contains(string(files["etc/passwd"].body), ":65532:65532:") {
				t.Error("etc/passwd does not name the non-root user 65532")
			}
			if !bytes.Contains(files["etc/ssl/certs/ca-certificates.crt"].body, []byte("BEGIN CERTIFICATE")) {
				t.Error("no CA bundle at /etc/ssl/certs/ca-certificates.crt")
			}
			path := filepath.Join(t.TempDir(), app)
			if err := os.WriteFile(path, bin.body, 0o755); err != nil {
				t.Fatal(err)
			}
			checkStatic(t, path)
			checkRefusesPublicSecret(t, path)
		})
	}
}

func readLayout(t *testing.T, dir string, want v1.Hash) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout holds %d manifests, want 1", len(m.Manifests))
	}
	d := m.Manifests[0]
	if d.Digest != want {
		t.Fatalf("layout holds %s, Build returned %s", d.Digest, want)
	}
	if d.Annotations[refLabel] != "test" {
		t.Errorf("ref name %q, want the tag", d.Annotations[refLabel])
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func checkConfig(t *testing.T, app string, cfg *v1.ConfigFile) {
	t.Helper()
	uid, _, _ := strings.Cut(cfg.Config.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("user %q: want a numeric non-root uid (Kubernetes runAsNonRoot checks it)", cfg.Config.User)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != BinDir+"/"+app {
		t.Errorf("entrypoint %q", cfg.Config.Entrypoint)
	}
	if _, ok := cfg.Config.ExposedPorts[Port]; !ok || len(cfg.Config.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v, want only %s", cfg.Config.ExposedPorts, Port)
	}
	if cfg.Config.Labels["org.opencontainers.image.title"] != app || cfg.Config.Labels["org.opencontainers.image.version"] != "test" {
		t.Errorf("labels %v", cfg.Config.Labels)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cfg.OS, cfg.Architecture)
	}
}

type entry struct {
	Mode int64
	Uid  int
	body []byte
}

func layerFiles(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want one (no base image)", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = entry{h.Mode, h.Uid, body}
	}
	for name := range files {
		if strings.HasPrefix(name, "bin/sh") || strings.HasSuffix(name, "/sh") {
			t.Errorf("image has a shell: %s", name)
		}
	}
	return files
}

// checkStatic fails unless the file is an ELF executable that needs no
// dynamic loader and no shared library.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("entrypoint is not an ELF binary: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("entrypoint is dynamically linked (program header %s)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("entrypoint needs shared libraries %v", libs)
	}
}

// checkRefusesPublicSecret runs the binary with an empty environment but
// what production would give it, except the public default JWT secret.
func checkRefusesPublicSecret(t *testing.T, path string) {
	t.Helper()
	token := make([]byte, 32)
	rand.Read(token)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{
		"GOVERN_ENV=prod",
		"GOVERN_JWT_SECRET=local-dev-secret",
		"APP_API_TOKEN=" + hex.EncodeToString(token),
		"DATABASE_URL=postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
		"HTTP_ADDR=127.0.0.1:0",
	}
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("binary did not refuse to start (err %v); output:\n%s", err, out)
	}
	if !strings.Contains(out, "GOVERN_JWT_SECRET") {
		t.Fatalf("exit %d without naming GOVERN_JWT_SECRET; output:\n%s", exit.ExitCode(), out)
	}
}
