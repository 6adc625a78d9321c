package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govern/tests/platform"
)

// A report the load generator filed. Every report has a reporter of its own,
// so the report database can be asked, by reporter, which ones it kept.
type filing struct {
	n        int
	via      string // "http" or "topic"
	reporter string
	target   target
	// accepted: the platform took responsibility (202/200 on HTTP, a 2xx
	// publish on the topic). refused: a 4xx no retry can fix.
	accepted bool
	refused  string
}

type target struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	OwnerID string `json:"owner_id"`
}

// load files reports at a steady rate: most over HTTP, some on the reports
// topic through a sidecar's publish API (as the marketplace's systems do),
// a quarter of them on a recent target so that reports join open cases.
type load struct {
	api   *api
	plat  *platform.Platform
	seed  uint64
	rate  float64
	start time.Time

	mu       sync.Mutex
	rng      *rand.Rand
	filings  []*filing
	recent   []target
	inflight sync.WaitGroup
	sem      chan struct{}
	// retries end with this context, which outlives the load phase so that
	// filings begun before its end get their answer.
	finishCtx    context.Context
	finishCancel context.CancelFunc
	publisher    atomic.Uint64
}

func newLoad(a *api, plat *platform.Platform, seed uint64, rate float64, start time.Time) *load {
	ctx, cancel := context.WithCancel(context.Background())
	return &load{api: a, plat: plat, seed: seed, rate: rate, start: start,
		rng: rand.New(rand.NewPCG(seed, 0x10ad)), sem: make(chan struct{}, 64),
		finishCtx: ctx, finishCancel: cancel}
}

func (l *load) offered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.filings)
}

// run files reports until ctx ends, printing progress every ten seconds.
func (l *load) run(ctx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / l.rate))
	defer tick.Stop()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-progress.C:
			acc, pending := l.counts()
			logf(l.start, "load: %d reports offered, %d accepted, %d awaiting an answer", l.offered(), acc, pending)
		case <-tick.C:
			f := l.next()
			select {
			case l.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			l.inflight.Add(1)
			go func() {
				defer func() { <-l.sem; l.inflight.Done() }()
				l.file(f)
			}()
		}
	}
}

func (l *load) next() *filing {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.filings)
	f := &filing{n: n, via: "http", reporter: fmt.Sprintf("rep-%d-%05d", l.seed, n)}
	if l.rng.Float64() < 0.3 {
		f.via = "topic"
	}
	if len(l.recent) > 0 && l.rng.Float64() < 0.25 {
		f.target = l.recent[l.rng.IntN(len(l.recent))]
	} else {
		f.target = target{Kind: kinds[l.rng.IntN(len(kinds))], ID: fmt.Sprintf("t-%d-%05d", l.seed, n),
			OwnerID: fmt.Sprintf("owner-%d-%05d", l.seed, n)}
		l.recent = append(l.recent, f.target)
		if len(l.recent) > 20 {
			l.recent = l.recent[1:]
		}
	}
	l.filings = append(l.filings, f)
	return f
}

func (l *load) counts() (accepted, pending int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.filings {
		if f.accepted {
			accepted++
		} else if f.refused == "" {
			pending++
		}
	}
	return accepted, pending
}

// file sends one report until the platform accepts or refuses it, repeating
// it with the same idempotency key after any transient failure.
func (l *load) file(f *filing) {
	key := fmt.Sprintf("key-%d-%05d", l.seed, f.n)
	body := map[string]any{
		"reporter_id": f.reporter, "target": f.target, "reason": "counterfeit goods",
		"evidence": []string{"https://example.invalid/evidence/" + key},
	}
	var resp platform.Response
	var err error
	if f.via == "http" {
		c := l.api.as("report", f.reporter)
		resp, err = retry(l.finishCtx, func() (platform.Response, error, bool) {
			resp, err := c.Do(l.finishCtx, http.MethodPost, "/v1/reports", body, "Idempotency-Key", key)
			return resp, err, !transient(resp, err)
		})
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case err != nil:
		case resp.Status == http.StatusAccepted || resp.Status == http.StatusOK:
			f.accepted = true
		default:
			f.refused = resp.String()
		}
		return
	}
	body["idempotency_key"] = key
	_, err = retry(l.finishCtx, func() (platform.Response, error, bool) {
		// Any sidecar publishes to the topic; after a failure, the next one.
		app := platform.Apps[l.publisher.Add(1)%uint64(len(platform.Apps))]
		pubCtx, cancel := context.WithTimeout(l.finishCtx, 10*time.Second)
		defer cancel()
		err := l.plat.Sidecar(app).Publish(pubCtx, "pubsub", "reports", body)
		return platform.Response{}, err, err == nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	f.accepted = err == nil
}

// finish waits up to two minutes for the answers of filings begun before the
// load stopped (the platform was healed first), then gives up on the rest.
func (l *load) finish(ctx context.Context) {
	done := make(chan struct{})
	go func() { l.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
	case <-ctx.Done():
	}
	l.finishCancel()
	<-done
	acc, _ := l.counts()
	logf(l.start, "load: every filing answered: %d of %d accepted", acc, l.offered())
}

// snapshot copies the filings for the checker.
func (l *load) snapshot() []filing {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]filing, len(l.filings))
	for i, f := range l.filings {
		out[i] = *f
	}
	return out
}
