package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantilesFollowTheRecordedValues(t *testing.T) {
	h := NewHist()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	if h.Count() != 1000 {
		t.Fatalf("count %d", h.Count())
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if diff := got - c.want; diff < -c.want/500 || diff > c.want/500 {
			t.Errorf("q%.2f = %s, want %s within 0.2%%", c.q, got, c.want)
		}
	}
}

func TestOpenLoopScheduleIsFixedByTheRateAlone(t *testing.T) {
	if Schedule(0, 7) != 0 {
		t.Fatal("a closed loop schedules everything at once")
	}
	for i, want := range []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 1 * time.Second} {
		n := []int{0, 1, 2, 100}[i]
		if got := Schedule(100, n); got != want {
			t.Errorf("op %d at 100/s due at %s, want %s", n, got, want)
		}
	}
}

func TestRunCarriesOutEveryOperationOnceAndCountsFailures(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	res := Run(context.Background(), "smoke", 200, 8, 0, func(_ context.Context, i int) error {
		mu.Lock()
		seen[i]++
		mu.Unlock()
		if i%10 == 0 {
			return errors.New("every tenth fails")
		}
		return nil
	})
	if len(seen) != 200 {
		t.Fatalf("%d distinct operations ran, want 200", len(seen))
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("operation %d ran %d times", i, n)
		}
	}
	if res.Done != 180 || res.Failed != 20 || res.Lat.Count() != 180 || res.FirstErr == "" {
		t.Fatalf("result %+v", res)
	}
}

func TestOpenLoopLatencyCountsFromTheIntendedSendTime(t *testing.T) {
	// One worker, ops due 1 ms apart, each taking 5 ms: every op starts late,
	// so its latency (from when it was due) exceeds its own service time by
	// the queue it waited in. A closed-loop measure would show ~5 ms for all.
	res := Run(context.Background(), "queue", 20, 1, 1000, func(context.Context, int) error {
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	if res.Done != 20 {
		t.Fatalf("done %d", res.Done)
	}
	// The last op was due at 19 ms and could not start before 95 ms.
	if max := res.Lat.Quantile(1); max < 60*time.Millisecond {
		t.Fatalf("largest latency %s: queueing behind slow operations was not counted", max)
	}
}
