// Command image builds the container image of each service and of the ops
// console without a Docker engine: the same static binary on an empty base
// as apps/<app>/Dockerfile,
// written as an OCI image layout into .local/images/<app> (load it with
// `skopeo copy oci:.local/images/report docker://...` or crane).
//
//	image [-root DIR] [-out DIR] [-tag TAG] [-arch amd64] [app ...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
)

var allApps = []string{"report", "reviewer", "reward", "console"}

func main() {
	root := flag.String("root", "../..", "repository root")
	out := flag.String("out", "", "output folder (default <root>/.local/images)")
	tag := flag.String("tag", "", "image tag (default the commit's short hash)")
	arch := flag.String("arch", runtime.GOARCH, "target architecture")
	ca := flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to ship")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *root, *out, *tag, *arch, *ca, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, out, tag, arch, ca string, apps []string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, ".local", "images")
	}
	if len(apps) == 0 {
		apps = allApps
	}
	rev := gitRevision(root)
	if tag == "" {
		tag = "dev"
		if len(rev) >= 12 {
			tag = rev[:12]
		}
	}
	for _, app := range apps {
		dir := filepath.Join(out, app)
		fmt.Printf("    building %s:%s (%s) into %s\n", app, tag, arch, dir)
		digest, err := Build(ctx, Spec{Root: root, App: app, Tag: tag, Revision: rev, Arch: arch, CABundle: ca}, dir)
		if err != nil {
			return err
		}
		fmt.Printf("    %s %s\n", app, digest)
	}
	return nil
}

func gitRevision(root string) string {
	b, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
