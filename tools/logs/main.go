// Command logs searches the running platform's logs (make logs): the three
// apps' and their sidecars' JSON lines, merged in time order across
// services, filtered by business id, service, level, time range and trace.
//
//	logs -root . -profile run -case c_0c1937bfe3c92efcd323
//	logs -root . -profile test -service reward -level warn -since 10m
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "logs:", err)
		os.Exit(2)
	}
}

// list is a repeatable, comma-separated flag.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }
func (l *list) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer, now time.Time) error {
	fl := flag.NewFlagSet("logs", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var (
		root                            = fl.String("root", ".", "the checkout")
		profile                         = fl.String("profile", "run", "whose logs: run (make run) or a test profile (test, test-a, ...: its last make test)")
		dirs                            list
		f                               Filter
		cases, reports, users, services list
		level, since, until             string
		raw                             bool
	)
	fl.Var(&dirs, "dir", "search these folders instead of the profile's (repeatable)")
	fl.Var(&cases, "case", "case ids: the case's story across the services")
	fl.Var(&reports, "report", "report ids, with the case each opened or joined")
	fl.Var(&users, "user", "user ids: as reporter, owner, juror or subject")
	fl.Var(&services, "service", "report, reviewer, reward (app and sidecar) or report-dapr, ... (sidecar only)")
	fl.StringVar(&f.Trace, "trace", "", "a trace id")
	fl.StringVar(&level, "level", "", "lowest level shown: debug, info, warn, error")
	fl.StringVar(&since, "since", "", "from: RFC 3339 time or a duration back from now (10m)")
	fl.StringVar(&until, "until", "", "until: RFC 3339 time or a duration back from now")
	fl.BoolVar(&raw, "json", false, "print the matching lines as written")
	if err := fl.Parse(args); err != nil {
		return err
	}
	f.Cases, f.Reports, f.Users, f.Services = cases, reports, users, services
	var err error
	if level != "" {
		if f.MinLevel, err = ParseLevel(level); err != nil {
			return err
		}
	}
	if f.Since, err = ParseTime(since, now); err != nil {
		return fmt.Errorf("SINCE: %w", err)
	}
	if f.Until, err = ParseTime(until, now); err != nil {
		return fmt.Errorf("UNTIL: %w", err)
	}
	if len(dirs) == 0 {
		dirs = ProfileDirs(*root, *profile)
	}
	files, err := LogFiles(dirs)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no log files in %s: is the platform running (make run), or did make test run on profile %s?",
			strings.Join(dirs, ", "), *profile)
	}
	var all [][]Record
	for _, path := range files {
		recs, err := ReadFile(path)
		if err != nil {
			return err
		}
		all = append(all, recs)
	}
	merged := Merge(all...)
	f = f.Expand(merged)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	n := 0
	for _, r := range merged {
		if !f.Match(r) {
			continue
		}
		n++
		if raw {
			fmt.Fprintln(out, r.Raw)
		} else {
			fmt.Fprintln(out, Format(r))
		}
	}
	out.Flush()
	fmt.Fprintf(stderr, "logs: %d of %d lines from %d files\n", n, len(merged), len(files))
	return nil
}

// ProfileDirs are the folders a profile's platform logs to: under make run
// the dapr CLI writes each app's and sidecar's log beside the app
// (apps/<app>/.dapr/logs); the test harness writes them to .local/<profile>/logs.
func ProfileDirs(root, profile string) []string {
	if profile == "run" {
		var out []string
		for _, app := range []string{"report", "reviewer", "reward"} {
			out = append(out, filepath.Join(root, "apps", app, ".dapr", "logs"))
		}
		return out
	}
	return []string{filepath.Join(root, ".local", profile, "logs")}
}

// LogFiles lists the *.log files under dirs (missing folders are skipped).
func LogFiles(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".log") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}
