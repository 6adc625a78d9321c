package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The topic the marketplace publishes reports on, its dead-letter topic
// (docs/openapi/report.json x-topics) and the pubsub component
// (components/pubsub.yaml: Redis streams locally).
const (
	reportsTopic     = "reports"
	reportsDeadTopic = "reports-dead-letter"
	pubsubName       = "pubsub"
	topicConns       = 32 // publishers, ours and bare
	probeConsumers   = 10 // bare consumers (XREADGROUP + XACK)
)

// topicMessage is report i of the phase as the marketplace publishes it: the
// body of POST /v1/reports plus its idempotency_key, on a new target.
func topicMessage(prefix string, i int) []byte {
	reporter := topicReporter(prefix, i)
	b, _ := json.Marshal(map[string]any{"reporter_id": reporter, "reason": "counterfeit",
		"idempotency_key": fmt.Sprintf("%skey-%d", prefix, i),
		"target":          map[string]any{"kind": "item", "id": fmt.Sprintf("%st-%d", prefix, i), "owner_id": "owner-" + reporter}})
	return b
}

func topicReporter(prefix string, i int) string { return fmt.Sprintf("%srep-%d", prefix, i) }

// topicIndex is i of a reporter id topicReporter(prefix, i) made.
func topicIndex(prefix, reporter string) (int, bool) {
	s, ok := strings.CutPrefix(reporter, prefix+"rep-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0
}

// probePayload is a bare probe message of size bytes (at least its stamp)
// carrying its publish time, so the consumer can tell publish -> consume.
func probePayload(sent time.Time, size int) string {
	s := strconv.FormatInt(sent.UnixNano(), 10) + "|"
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

// probeSent is the publish time a probePayload carries.
func probeSent(payload string) (time.Time, bool) {
	stamp, _, ok := strings.Cut(payload, "|")
	if !ok {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// entrySize is the bytes of a stream entry's fields and values.
func entrySize(values map[string]any) int {
	n := 0
	for k, v := range values {
		n += len(k) + len(fmt.Sprint(v))
	}
	return n
}

// publish posts data on topic through the report app's sidecar, with its
// Dapr API token: the path the marketplace's publisher takes.
func (l *load) publish(ctx context.Context, topic string, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		l.plat.SidecarURL("report")+"/v1.0/publish/"+pubsubName+"/"+topic, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", l.plat.DaprToken("report"))
	resp, err := l.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("publish to %s: %d %s", topic, resp.StatusCode, body)
	}
	return nil
}

// deadLetterMark is the id of the newest entry of the reports' dead-letter
// stream ("0" when it has none), so that later entries can be counted.
func (l *load) deadLetterMark(ctx context.Context) (string, error) {
	last, err := l.redis.XRevRangeN(ctx, reportsDeadTopic, "+", "-", 1).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", err
	}
	if len(last) == 0 {
		return "0", nil
	}
	return last[0].ID, nil
}

// deadLettered counts the entries after mark that mention s.
func (l *load) deadLettered(ctx context.Context, mark, s string) (int, error) {
	entries, err := l.redis.XRange(ctx, reportsDeadTopic, mark, "+").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.ID != mark && strings.Contains(fmt.Sprint(e.Values), s) {
			n++
		}
	}
	return n, nil
}

// storedCount is how many reports of reporters starting with prefix are
// stored, and how many distinct reporters they have.
func (l *load) storedCount(ctx context.Context, prefix string) (n, distinct int64, err error) {
	err = l.report.QueryRow(ctx, `SELECT count(*), count(DISTINCT reporter_id) FROM reports WHERE reporter_id LIKE $1 || '%'`,
		prefix).Scan(&n, &distinct)
	return n, distinct, err
}

// topic: intake over the topic. N reports (20,000 times LOAD_SCALE, new
// targets) published on `reports` through the report sidecar's publish API
// by 32 publishers as fast as it takes them; filed/s from the first publish
// to the last report stored (created_at in the report database), publish ->
// stored p50/p99 per report, every one stored exactly once and none
// dead-lettered. Beside it the broker's own publish -> consume rate for the
// same number of messages of the same size on the same Redis: XADD by 32
// publishers, XREADGROUP + XACK by 10 consumers of one group.
//
// Reporter ids start "tp-<run>-", not "<run>-", which the intake phase counts
// as its own.
func (l *load) topic(ctx context.Context) error {
	prefix := "tp-" + l.run + "-"
	n := l.o.n(20000)
	mark, err := l.deadLetterMark(ctx)
	if err != nil {
		return err
	}
	// As in the intake phase, a pool of eligible jurors, so that the rounds
	// the reports open draw and then wait quietly instead of asking an
	// empty pool again and again while the phase runs.
	if err := l.seedJurorPool(ctx, prefix+"jp-", jurorPool); err != nil {
		return err
	}

	// One warm-up report (its own reporter prefix) shows the subscription
	// works before the run, and gives the size of a message on the stream.
	warm := "tw-" + l.run + "-"
	if err := l.publish(ctx, reportsTopic, topicMessage(warm, 0)); err != nil {
		return err
	}
	if err := waitFor(ctx, time.Minute, 100*time.Millisecond, "warm-up report from the topic stored", func() (bool, string, error) {
		got, _, err := l.storedCount(ctx, warm)
		return got == 1, fmt.Sprintf("%d stored", got), err
	}); err != nil {
		return err
	}
	last, err := l.redis.XRevRangeN(ctx, reportsTopic, "+", "-", 1).Result()
	if err != nil || len(last) == 0 {
		return fmt.Errorf("read the %s stream's newest entry: %v", reportsTopic, err)
	}
	size := entrySize(last[0].Values)
	logf("a report on the %s stream is %d bytes (fields and values)", reportsTopic, size)

	bare, err := l.brokerProbe(ctx, n, size)
	if err != nil {
		return fmt.Errorf("bare broker probe: %w", err)
	}

	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = topicMessage(prefix, i)
	}
	sent := make([]time.Time, n)
	stopStored := progress("topic: reports stored", func() string {
		got, _, err := l.storedCount(ctx, prefix)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%d/%d stored", got, n)
	})
	stopProfile := l.profile(ctx, "topic", 10*time.Second, "report", "report-dapr")
	pub := Run(ctx, fmt.Sprintf("publish on %s through the report sidecar, %d conns, closed loop", reportsTopic, topicConns),
		n, topicConns, 0, func(ctx context.Context, i int) error {
			sent[i] = time.Now()
			return l.publish(ctx, reportsTopic, msgs[i])
		})
	published := time.Now()
	stopStored()
	var stored, distinct int64
	var dead int
	// At least 20 ms a report: the consumer files far fewer a second than
	// the publishers publish, so the wait grows with the count.
	err = waitFor(ctx, max(3*time.Minute, l.o.drainMax, time.Duration(n)*20*time.Millisecond), 250*time.Millisecond, "reports from the topic stored", func() (bool, string, error) {
		var err error
		if stored, distinct, err = l.storedCount(ctx, prefix); err != nil {
			return false, "", err
		}
		if dead, err = l.deadLettered(ctx, mark, prefix); err != nil {
			return false, "", err
		}
		return stored+int64(dead) >= pub.Done, fmt.Sprintf("%d of %d stored, %d dead-lettered", stored, pub.Done, dead), nil
	})
	stopProfile()
	if err != nil {
		return err
	}
	if stored, distinct, err = l.storedCount(ctx, prefix); err != nil {
		return err
	}
	if dead, err = l.deadLettered(ctx, mark, prefix); err != nil {
		return err
	}

	lat := NewHist()
	var first, lastStored time.Time
	for _, t := range sent {
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	rows, err := l.report.Query(ctx, `SELECT reporter_id, created_at FROM reports WHERE reporter_id LIKE $1 || '%'`, prefix)
	if err != nil {
		return err
	}
	for rows.Next() {
		var reporter string
		var at time.Time
		if err := rows.Scan(&reporter, &at); err != nil {
			rows.Close()
			return err
		}
		if i, ok := topicIndex(prefix, reporter); ok && i < n && !sent[i].IsZero() {
			lat.Record(at.Sub(sent[i]))
		}
		if at.After(lastStored) {
			lastStored = at
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	filed := 0.0
	if span := lastStored.Sub(first); span > 0 {
		filed = float64(stored) / span.Seconds()
	}
	l.add(fmt.Sprintf("intake over the topic: reports/s consumed and filed (%d on `%s`, published through the report sidecar, %d conns)", n, reportsTopic, topicConns),
		fmt.Sprintf("%.0f/s filed (first publish -> last stored), publish -> stored p50 %s, p99 %s; %d of %d stored once, %d dead-lettered",
			filed, ms(lat.Quantile(.5)), ms(lat.Quantile(.99)), distinct, pub.Done, dead),
		fmt.Sprintf("%.0f msgs/s, Redis XADD (%d conns) -> XREADGROUP + XACK (%d consumers), p50 %s, p99 %s, %d B each",
			bare.Rate(), topicConns, probeConsumers, ms(bare.Lat.Quantile(.5)), ms(bare.Lat.Quantile(.99)), size),
		filed/bare.Rate())
	l.note("topic: the sidecar took the %d publishes at %.0f/s (publish API p50 %s, p99 %s, %d failed); the last report was stored %s after the last publish returned",
		n, pub.Rate(), ms(pub.Lat.Quantile(.5)), ms(pub.Lat.Quantile(.99)), pub.Failed, lastStored.Sub(published).Round(time.Millisecond))
	if pub.Failed > 0 {
		return fmt.Errorf("%d of %d publishes failed (first: %s)", pub.Failed, n, pub.FirstErr)
	}
	if stored != pub.Done || distinct != pub.Done || dead != 0 {
		return fmt.Errorf("%d reports published, %d stored (%d distinct reporters), %d dead-lettered", pub.Done, stored, distinct, dead)
	}
	return nil
}

// brokerProbe is the broker's own publish -> consume rate on the same Redis:
// n messages of size bytes XADDed to a stream of the run's own by 32
// publishers while 10 consumers of one group read them (XREADGROUP, up to 10
// at a time) and acknowledge them (XACK); from the first XADD to the last
// XACK, and each message's publish -> consume latency.
func (l *load) brokerProbe(ctx context.Context, n, size int) (Result, error) {
	stream, group := "load-probe-"+l.run, "probe"
	res := Result{Name: fmt.Sprintf("bare: %d messages of %d bytes, XADD (%d conns) -> XREADGROUP + XACK (%d consumers)", n, size, topicConns, probeConsumers),
		Lat: NewHist()}
	// A client of its own that never retries: a retried XADD whose first
	// try got through (a read timeout on a busy machine) would add the
	// message twice.
	rc := redis.NewClient(&redis.Options{Addr: l.plat.RedisAddr(), PoolSize: topicConns + probeConsumers + 4,
		MaxRetries: -1, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	defer rc.Close()
	if err := rc.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		return res, err
	}
	defer rc.Del(context.WithoutCancel(ctx), stream)
	var next, published, consumed, failed, lastAck atomic.Int64
	var firstErr sync.Once
	fail := func(err error) {
		failed.Add(1)
		firstErr.Do(func() { res.FirstErr = err.Error() })
	}
	stop := progress("bare broker probe", func() string {
		return fmt.Sprintf("%d/%d published, %d consumed", published.Load(), n, consumed.Load())
	})
	defer stop()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range topicConns {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				err := rc.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []string{"data", probePayload(time.Now(), size-len("data"))}}).Err()
				if err != nil {
					fail(err)
					continue
				}
				published.Add(1)
			}
		})
	}
	var consumers sync.WaitGroup
	for c := range probeConsumers {
		consumers.Go(func() {
			for cctx.Err() == nil {
				got, err := rc.XReadGroup(cctx, &redis.XReadGroupArgs{Group: group, Consumer: fmt.Sprintf("c%d", c),
					Streams: []string{stream, ">"}, Count: 10, Block: 200 * time.Millisecond}).Result()
				if err != nil {
					if !errors.Is(err, redis.Nil) && cctx.Err() == nil {
						fail(err)
					}
					continue
				}
				for _, s := range got {
					ids := make([]string, 0, len(s.Messages))
					for _, m := range s.Messages {
						ids = append(ids, m.ID)
					}
					if len(ids) == 0 {
						continue
					}
					if err := rc.XAck(cctx, stream, group, ids...).Err(); err != nil {
						fail(err)
						continue
					}
					now := time.Now()
					for _, m := range s.Messages {
						if t, ok := probeSent(fmt.Sprint(m.Values["data"])); ok {
							res.Lat.Record(now.Sub(t))
						}
					}
					if consumed.Add(int64(len(ids))) >= int64(n) {
						lastAck.CompareAndSwap(0, int64(time.Since(start)))
						cancel()
					}
				}
			}
		})
	}
	wg.Wait()
	if published.Load() < int64(n) {
		cancel() // some XADDs failed: the consumers cannot reach n
	}
	limit := time.AfterFunc(time.Minute, cancel)
	consumers.Wait()
	limit.Stop()
	res.Elapsed = time.Duration(lastAck.Load())
	if res.Elapsed == 0 {
		res.Elapsed = time.Since(start)
	}
	res.Done, res.Failed = consumed.Load(), failed.Load()
	logf("%s", res)
	if res.Done < int64(n) {
		return res, fmt.Errorf("%d of %d messages consumed (%d failed; first: %s)", res.Done, n, res.Failed, res.FirstErr)
	}
	return res, nil
}
