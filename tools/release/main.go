// Command release moves the prod overlay's traffic between the two colours
// of each app by rewriting manifests/overlays/prod/release/<app>.yaml:
//
//	release [-root manifests] [-app report] canary WEIGHT | promote | rollback | switch blue|green
//
// Every app's new state is checked before any file is written; an invalid
// state changes nothing and exits 1 (2 for a usage error). The unified diff
// of what changed is printed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = "usage: release [-root DIR] [-app APP] canary WEIGHT | promote | rollback | switch blue|green"

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("release", flag.ContinueOnError)
	flags.SetOutput(stderr)
	root := flags.String("root", "manifests", "the manifests folder")
	app := flags.String("app", "", "one app (default: every app with a release file)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	cmd, err := parseCommand(flags.Args())
	if err != nil {
		fmt.Fprintf(stderr, "release: %v\n%s\n", err, usage)
		if errors.Is(err, errRefused) {
			return 1
		}
		return 2
	}
	if err := rewrite(*root, *app, cmd, stdout); err != nil {
		fmt.Fprintf(stderr, "release: %v; nothing changed\n", err)
		return 1
	}
	return 0
}

type change struct {
	path     string
	old, new []byte
}

func rewrite(root, app string, cmd command, stdout io.Writer) error {
	overlay := filepath.Join(root, "overlays", "prod")
	dir := filepath.Join(overlay, "release")
	apps, err := releaseApps(dir)
	if err != nil {
		return err
	}
	if app != "" {
		if !slices.Contains(apps, app) {
			return fmt.Errorf("unknown app %q (release files: %s)", app, strings.Join(apps, ", "))
		}
		apps = []string{app}
	}
	c, err := loadCluster(overlay)
	if err != nil {
		return err
	}
	var changes []change
	for _, a := range apps {
		path := filepath.Join(dir, a+".yaml")
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		before, err := parseRelease(a, src)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := before.validate(c); err != nil {
			return fmt.Errorf("%s as it is: %w", path, err)
		}
		out, err := before.apply(src, cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		after, err := parseRelease(a, out)
		if err != nil {
			return fmt.Errorf("%s after %s: %w", path, cmd.name, err)
		}
		if err := after.validate(c); err != nil {
			return fmt.Errorf("%s after %s: %w", path, cmd.name, err)
		}
		changes = append(changes, change{path: path, old: src, new: out})
	}
	for _, ch := range changes {
		if string(ch.old) == string(ch.new) {
			fmt.Fprintf(stdout, "%s: unchanged\n", ch.path)
			continue
		}
		if err := writeFile(ch.path, ch.new); err != nil {
			return err
		}
		from, to := diffNames(ch.path)
		diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(ch.old)), B: difflib.SplitLines(string(ch.new)),
			FromFile: from, ToFile: to, Context: 3,
		})
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, diff)
	}
	return nil
}

// diffNames names the file as git does when it is below the working folder.
func diffNames(path string) (from, to string) {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return "a/" + rel, "b/" + rel
		}
	}
	return path, path
}

// releaseApps lists the apps that have a release file.
func releaseApps(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no release files in %s", dir)
	}
	var apps []string
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".yaml"); name != "kustomization" {
			apps = append(apps, name)
		}
	}
	return apps, nil
}

// writeFile replaces path through a rename, so a reader never sees half a file.
func writeFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".release-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
