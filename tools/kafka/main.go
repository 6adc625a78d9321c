// Command kafka runs a Kafka wire-protocol cluster (franz-go's kfake) on
// loopback for the Kafka test profile. Topics are created up front with the
// partition counts given, and automatic topic creation is off, as on a
// production cluster where topics are provisioned: a component that
// publishes to a topic nobody created fails instead of silently making one.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kafka:", err)
		os.Exit(1)
	}
}

func run() error {
	port := flag.Int("port", 9092, "port of the first broker; broker i listens on port+i (always 127.0.0.1)")
	brokers := flag.Int("brokers", 3, "number of brokers, so that partition leaders spread over several connections")
	topics := flag.String("topics", "", "topics to create, as name:partitions,name:partitions,...")
	maxMessageBytes := flag.Int("max-message-bytes", 4<<20, "broker message.max.bytes (Kafka's default is about 1 MiB)")
	logLevel := flag.String("log-level", "warn", "kfake log level on stderr: none, error, warn, info, debug")
	flag.Parse()

	if *brokers < 1 {
		return fmt.Errorf("-brokers must be at least 1")
	}
	seeds, err := parseTopics(*topics)
	if err != nil {
		return err
	}
	level, err := parseLevel(*logLevel)
	if err != nil {
		return err
	}
	ports := make([]int, *brokers)
	for i := range ports {
		ports[i] = *port + i
	}
	opts := []kfake.Opt{
		kfake.Ports(ports...),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(*maxMessageBytes)}),
	}
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		opts = append(opts, kfake.SeedTopics(seeds[name], name))
	}

	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start cluster: %w", err)
	}
	fmt.Printf("kafka: %d broker(s) on %s\n", *brokers, strings.Join(cluster.ListenAddrs(), ","))
	for _, name := range names {
		fmt.Printf("kafka: topic %s, %d partition(s)\n", name, seeds[name])
	}
	fmt.Println("kafka: ready")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	sig := <-sigs
	fmt.Printf("kafka: %s, shutting down\n", sig)
	cluster.Close()
	fmt.Println("kafka: stopped")
	return nil
}

func parseTopics(spec string) (map[string]int32, error) {
	out := map[string]int32{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, parts, ok := strings.Cut(item, ":")
		n, err := strconv.ParseInt(parts, 10, 32)
		if !ok || name == "" || err != nil || n < 1 {
			return nil, fmt.Errorf("topic %q: want name:partitions with partitions >= 1", item)
		}
		out[name] = int32(n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no topics given (-topics name:partitions,...)")
	}
	return out, nil
}

func parseLevel(s string) (kfake.LogLevel, error) {
	switch strings.ToLower(s) {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return 0, fmt.Errorf("unknown log level %q", s)
}
