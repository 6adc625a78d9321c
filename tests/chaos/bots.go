package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/govern/tests/platform"
)

// A ballot is what one bot did about one task.
type ballot struct {
	juror, caseID string
	decision      string
	plan          string // "prompt", "late" or "abstain"
	accepted      bool   // answered 202
	answer        string // the final answer when not 202
}

// bots are the jurors. Each learns of its tasks from its SSE stream (and, as
// the stream misses tasks while the reviewer restarts, from its inbox every
// few seconds) and votes on most of them: promptly, after its deadline (to
// be refused), or never (to be released and replaced).
type bots struct {
	api    *api
	seed   uint64
	jurors []string
	start  time.Time

	mu      sync.Mutex
	seen    map[string]bool // juror + "|" + case
	ballots []*ballot
	wg      sync.WaitGroup
}

func newBots(a *api, seed uint64) *bots {
	return &bots{api: a, seed: seed, seen: map[string]bool{}}
}

func (b *bots) run(ctx context.Context, start time.Time) {
	b.start = start
	for _, j := range b.jurors {
		go b.stream(ctx, j)
		go b.poll(ctx, j)
	}
}

func (b *bots) stream(ctx context.Context, juror string) {
	client := &http.Client{} // a stream stays open; ctx ends it
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
			b.api.plat.AppURL("reviewer")+"/v1/reviewers/"+juror+"/stream", nil)
		req.Header.Set("Authorization", "Bearer "+platform.Token(juror))
		resp, err := client.Do(req)
		if err == nil {
			if resp.StatusCode == http.StatusOK {
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					data, ok := strings.CutPrefix(sc.Text(), "data: ")
					if !ok {
						continue
					}
					var t struct {
						CaseID string `json:"case_id"`
					}
					if json.Unmarshal([]byte(data), &t) == nil && t.CaseID != "" {
						b.onTask(ctx, juror, t.CaseID)
					}
				}
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (b *bots) poll(ctx context.Context, juror string) {
	c := b.api.as("reviewer", juror)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
		resp, err := c.Do(ctx, http.MethodGet, "/v1/reviewers/"+juror+"/tasks?limit=500", nil)
		if err != nil || resp.Status != http.StatusOK {
			continue
		}
		var tasks struct {
			Items []struct {
				CaseID string `json:"case_id"`
			} `json:"items"`
		}
		if resp.JSON(&tasks) != nil {
			continue
		}
		for _, t := range tasks.Items {
			b.onTask(ctx, juror, t.CaseID)
		}
	}
}

// onTask plans the bot's answer to a task it sees for the first time. The
// plan depends only on the seed, the juror and the case.
func (b *bots) onTask(ctx context.Context, juror, caseID string) {
	b.mu.Lock()
	if b.seen[juror+"|"+caseID] {
		b.mu.Unlock()
		return
	}
	b.seen[juror+"|"+caseID] = true
	rng := rand.New(rand.NewPCG(b.seed, hash(juror+"|"+caseID)))
	// Cases lean one way, so decisions are not coin flips.
	lean := 0.2
	if hash(caseID)%2 == 0 {
		lean = 0.8
	}
	bl := &ballot{juror: juror, caseID: caseID, decision: "reject"}
	if rng.Float64() < lean {
		bl.decision = "uphold"
	}
	var delay time.Duration
	switch p := rng.Float64(); {
	case p < 0.75:
		bl.plan, delay = "prompt", time.Duration(500+rng.IntN(6500))*time.Millisecond
	case p < 0.87:
		bl.plan, delay = "late", jurorTimeout+time.Duration(1000+rng.IntN(4000))*time.Millisecond
	default:
		bl.plan = "abstain"
	}
	b.ballots = append(b.ballots, bl)
	b.mu.Unlock()
	if bl.plan == "abstain" {
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		b.vote(ctx, bl)
	}()
}

// vote casts a ballot until it is answered for good. A substitute's task is
// visible a moment before the report service records the substitute, so
// 403 and jury_not_ready are retried for a while too.
func (b *bots) vote(ctx context.Context, bl *ballot) {
	c := b.api.as("report", bl.juror)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	first := time.Now()
	resp, err := retry(ctx, func() (platform.Response, error, bool) {
		resp, err := c.Do(ctx, http.MethodPost, "/v1/cases/"+bl.caseID+"/votes", map[string]any{"decision": bl.decision})
		if transient(resp, err) {
			return resp, err, false
		}
		settling := resp.Status == http.StatusForbidden || resp.ErrorCode() == "jury_not_ready"
		return resp, err, !settling || time.Since(first) > 15*time.Second
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case err != nil:
		bl.answer = err.Error()
	case resp.Status == http.StatusAccepted:
		bl.accepted = true
	default:
		bl.answer = fmt.Sprintf("%d %s", resp.Status, resp.ErrorCode())
	}
}

func (b *bots) snapshot() []ballot {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]ballot, len(b.ballots))
	for i, bl := range b.ballots {
		out[i] = *bl
	}
	return out
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
