// Package kafka runs one end-to-end scenario with the pubsub component as
// pubsub.kafka against a Kafka wire-protocol cluster (kfake) on loopback:
// two report replicas in one consumer group, databases of its own, the
// reviewer and reward apps. scripts/kafka.sh starts the cluster, builds the
// resources folder and runs it, after the e2e suite and never beside it.
package kafka

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/govern/tests/platform"
)

// replica is the second report instance: same app-id, same consumer group,
// its own process, sidecar and ports (base + 11, clear of the apps' 1-3).
const replica = "report-2"

var (
	plat    *platform.Platform
	brokers []string
	kafka   *kgo.Client
	admin   *kadm.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	resources := os.Getenv("GOVERN_KAFKA_RESOURCES")
	seeds := os.Getenv("GOVERN_KAFKA_BROKERS")
	root := os.Getenv("GOVERN_ROOT")
	if resources == "" || seeds == "" || root == "" {
		fmt.Fprintln(os.Stderr, "kafka: GOVERN_KAFKA_RESOURCES / GOVERN_KAFKA_BROKERS not set: run through scripts/kafka.sh")
		return 2
	}
	brokers = strings.Split(seeds, ",")
	var err error
	plat, err = platform.FromEnvWith(platform.Options{
		ResourcesPaths: []string{resources, filepath.Join(root, "dapr-config")},
		Databases: map[string]string{"report": "report_kafka", "reviewer": "reviewer_kafka",
			"reward": "reward_kafka", "state": "dapr_state_kafka"},
		Replicas: []platform.Replica{{Name: replica, AppID: "report", Slot: 11}},
		Logs:     filepath.Join(os.Getenv("GOVERN_STATE"), "kafka", "logs"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafka:", err)
		return 2
	}
	kafka, err = kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafka: client:", err)
		return 2
	}
	defer kafka.Close()
	admin = kadm.NewClient(kafka)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fmt.Printf("kafka: starting report (two replicas), reviewer, reward and their sidecars on brokers %s\n", seeds)
	start := time.Now()
	if err := plat.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kafka:", err)
		plat.Stop()
		return 2
	}
	defer plat.Stop()
	fmt.Printf("kafka: platform ready in %s\n", time.Since(start).Round(time.Millisecond))
	return m.Run()
}
