package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Hist records latencies in microseconds, 1 µs to 10 min, 3 significant
// digits (HDR: the error is bounded whatever the spread).
type Hist struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

func NewHist() *Hist { return &Hist{h: hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3)} }

func (h *Hist) Record(d time.Duration) {
	us := max(int64(d/time.Microsecond), 1)
	h.mu.Lock()
	_ = h.h.RecordValue(min(us, h.h.HighestTrackableValue()))
	h.mu.Unlock()
}

// Quantile is the latency below which q (0..1) of the samples lie.
func (h *Hist) Quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Duration(h.h.ValueAtQuantile(q*100)) * time.Microsecond
}

func (h *Hist) Count() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.TotalCount()
}

// Result is what one run of a generator measured.
type Result struct {
	Name     string
	Offered  float64 // arrivals per second asked for (0: closed loop)
	Done     int64   // operations that succeeded
	Failed   int64
	Elapsed  time.Duration
	Lat      *Hist
	FirstErr string
}

// Rate is successful operations per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Done) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	s := fmt.Sprintf("%s: %d ok, %d failed in %s = %.0f/s, p50 %s p99 %s", r.Name, r.Done, r.Failed,
		r.Elapsed.Round(time.Millisecond), r.Rate(), ms(r.Lat.Quantile(0.5)), ms(r.Lat.Quantile(0.99)))
	if r.Offered > 0 {
		s += fmt.Sprintf(" (offered %.0f/s)", r.Offered)
	}
	if r.FirstErr != "" {
		s += "; first failure: " + r.FirstErr
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Op is one operation, i counting from 0.
type Op func(ctx context.Context, i int) error

// Schedule is when operation i is meant to start, relative to the run's
// start: i/rate for an open loop (a fixed arrival rate), 0 for a closed loop
// (each worker goes on as soon as it is free).
func Schedule(rate float64, i int) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(i) / rate * float64(time.Second))
}

// Run carries out n operations on conns workers. With rate > 0 it is an
// open loop: operation i is due at start + i/rate and its latency counts
// from that intended time, not from when a worker got to it, so a stall
// shows in the latency of everything that queued behind it (no coordinated
// omission). With rate 0 it is a closed loop measuring throughput, and
// latency counts from the actual send. It prints progress every 5 s.
func Run(ctx context.Context, name string, n, conns int, rate float64, op Op) Result {
	res := Result{Name: name, Offered: rate, Lat: NewHist()}
	var next, done, failed atomic.Int64
	var firstErr sync.Once
	start := time.Now()
	stopProgress := progress(name, func() string {
		return fmt.Sprintf("%d/%d done, %d failed", done.Load(), n, failed.Load())
	})
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				due := start.Add(Schedule(rate, i))
				if wait := time.Until(due); wait > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return
					}
				}
				from := due
				if rate <= 0 {
					from = time.Now()
				}
				if err := op(ctx, i); err != nil {
					failed.Add(1)
					firstErr.Do(func() { res.FirstErr = err.Error() })
					continue
				}
				res.Lat.Record(time.Since(from))
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stopProgress()
	res.Elapsed = time.Since(start)
	res.Done, res.Failed = done.Load(), failed.Load()
	logf("%s", res)
	return res
}

// progress prints status() every 5 s until the returned stop is called.
func progress(name string, status func() string) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				logf("  %s: %s", name, status())
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

var runStart = time.Now()

func logf(format string, a ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(runStart).Seconds(), fmt.Sprintf(format, a...))
}
