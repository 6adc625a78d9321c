package kafka

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/govern/tests/platform"
)

// eventually polls cond until it holds or the time is up; it never asserts a
// duration, only that the platform gets there.
func eventually(t *testing.T, what string, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %s; last state: %s", what, within, last)
}

func must(t *testing.T, resp platform.Response, err error, status int) platform.Response {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != status {
		t.Fatalf("got %s, want status %d", resp, status)
	}
	return resp
}

// publishEvent publishes a CloudEvent with our own id through a sidecar's
// publish API, keyed by partitionKey (empty: no key), as another system of
// the marketplace would.
func publishEvent(ctx context.Context, app, topic, id, partitionKey string, data any) error {
	sidecar := plat.SidecarURL(app)
	ce := map[string]any{"specversion": "1.0", "id": id, "source": "kafka-test", "type": "com.govern.report",
		"datacontenttype": "application/json", "data": data}
	body, err := json.Marshal(ce)
	if err != nil {
		return err
	}
	u := sidecar + "/v1.0/publish/pubsub/" + url.PathEscape(topic)
	if partitionKey != "" {
		u += "?metadata.partitionKey=" + url.QueryEscape(partitionKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("dapr-api-token", plat.DaprToken(app))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("publish %s to %s: %d %s", id, topic, resp.StatusCode, msg)
	}
	return nil
}

// partitionOf is the partition the Dapr Kafka producer (sarama's default
// hash partitioner: FNV-1a, signed modulo, absolute value) picks for a key.
// Other clients hash differently (the Java client uses murmur2), which is
// why every producer of a keyed topic must use the same partitioner.
func partitionOf(key string, partitions int32) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	p := int32(h.Sum32()) % partitions
	if p < 0 {
		p = -p
	}
	return p
}

// readTopic returns every record of topic up to its current end offsets.
func readTopic(t *testing.T, ctx context.Context, topic string) []*kgo.Record {
	t.Helper()
	ends, err := admin.ListEndOffsets(ctx, topic)
	if err != nil || ends.Error() != nil {
		t.Fatalf("end offsets of %s: %v %v", topic, err, ends.Error())
	}
	want := map[int32]int64{}
	start := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			start[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxBytes(16<<20), kgo.FetchMaxPartitionBytes(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for len(want) > 0 {
		fetches := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("reading %s: %v (partitions left %v)", topic, rctx.Err(), want)
		}
		fetches.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			out = append(out, r)
			if r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// recordsMentioning keeps the records whose value contains s.
func recordsMentioning(records []*kgo.Record, s string) []*kgo.Record {
	var out []*kgo.Record
	for _, r := range records {
		if bytes.Contains(r.Value, []byte(s)) {
			out = append(out, r)
		}
	}
	return out
}

// lagOf is a consumer group's committed lag on topic (-1 if any partition
// has no commit or an error yet).
func lagOf(ctx context.Context, group, topic string) (int64, string) {
	lags, err := admin.Lag(ctx, group)
	if err != nil {
		return -1, err.Error()
	}
	l, ok := lags[group]
	if !ok || l.Error() != nil {
		return -1, fmt.Sprintf("group %s: %v", group, l.Error())
	}
	var total int64
	for _, m := range l.Lag[topic] {
		if m.Err != nil || m.Lag < 0 {
			return -1, fmt.Sprintf("partition %d: lag %d %v", m.Partition, m.Lag, m.Err)
		}
		total += m.Lag
	}
	return total, fmt.Sprintf("lag %d over %d partitions", total, len(l.Lag[topic]))
}

// logLine is one JSON line of an app's log.
type logLine struct {
	Msg      string `json:"msg"`
	EventID  string `json:"event_id"`
	CaseID   string `json:"case_id"`
	Replayed bool   `json:"replayed"`
	Reason   string `json:"reason"`
}

// topicIntake returns, in log order, the reports a report instance filed
// (or replayed) from the topic.
func topicIntake(t *testing.T, name string) []logLine {
	t.Helper()
	f, err := os.Open(filepath.Join(os.Getenv("GOVERN_STATE"), "kafka", "logs", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "report from topic" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// deliveries is how many times the sidecar posted to route on an instance,
// from the app's own request metrics (a fresh process counts from zero).
func deliveries(t *testing.T, ctx context.Context, name, route string) int {
	t.Helper()
	resp, err := platform.Client{Base: plat.AppURL(name)}.Do(ctx, "GET", "/metrics", nil)
	must(t, resp, err, 200)
	n := 0
	for _, line := range strings.Split(string(resp.Body), "\n") {
		if strings.HasPrefix(line, "govern_http_request_duration_seconds_count{") && strings.Contains(line, `route="`+route+`"`) {
			var v float64
			fields := strings.Fields(line)
			fmt.Sscan(fields[len(fields)-1], &v)
			n += int(v)
		}
	}
	return n
}
