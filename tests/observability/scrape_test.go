package observability

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/config"
	// Registers kubernetes_sd_configs, as in a Prometheus built with it
	// (Debian's promtool is not: it cannot check this file).
	_ "github.com/prometheus/prometheus/discovery/kubernetes"
)

func TestTheClusterScrapeConfigurationLoads(t *testing.T) {
	path := filepath.Join(obsDir, "prometheus", "scrape-configs.yml")
	cfg, err := config.LoadFile(path, false, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		t.Fatalf("Prometheus refuses %s: %v", path, err)
	}
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
	}
	// The rules name these jobs (DaprSidecarDown); the local configuration
	// (scripts/observability.sh) uses the same names.
	for _, want := range []string{"govern-apps", "dapr-sidecars", "dapr-control-plane"} {
		if !slices.Contains(jobs, want) {
			t.Errorf("no scrape job %s (jobs: %v)", want, jobs)
		}
	}
}
