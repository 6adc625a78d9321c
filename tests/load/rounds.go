package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dapr/durabletask-go/backend"
	"github.com/dapr/durabletask-go/workflow"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/govern/tests/platform"
)

// rounds: full rounds per second (report filed, jury drawn, votes from
// voting bots until the quorum vote decides, decision, its outbox) beside a
// bare Dapr workflow of the round's old shape (one activity, then three
// external events) that a probe worker registers against the report app's
// own sidecar; then vote -> decision visible p50/p99 (from the start of the
// quorum vote's request, the last accepted vote sent before the decision
// was seen, to the moment the decision was read from the report database,
// polled every 20 ms).
//
// The probe runs first, while the report app is stopped: a sidecar hands
// its workflow work items to any worker connected to it, so the app and the
// probe must not be connected at once. No round may be open then, so this
// phase runs before intake (which leaves rounds waiting for jurors).
func (l *load) rounds(ctx context.Context) error {
	n := l.o.n(400)
	const conns = 32
	bare, err := l.bareWorkflow(ctx, n, conns)
	if err != nil {
		return fmt.Errorf("bare workflow probe: %w", err)
	}

	b, err := l.newVoters(ctx, 48)
	if err != nil {
		return err
	}
	bctx, stopBots := context.WithCancel(ctx)
	defer stopBots()
	b.run(bctx)
	// Not l.run + "-...": intake counts the reports and cases whose ids
	// start with that as its own.
	prefix := "rd-" + l.run + "-"
	seen, credited := newSightings(), newSightings()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchDone := make(chan error, 2)
	go func() { watchDone <- l.watchDecisions(wctx, prefix, seen) }()
	go func() { watchDone <- l.watchCredits(wctx, b, credited) }()

	start := time.Now()
	stopProfile := l.profile(ctx, "rounds", 10*time.Second, "report", "report-dapr", "reviewer", "reviewer-dapr")
	filed := Run(ctx, "rounds: POST /v1/reports, new targets, 32 conns", n, conns, 0, func(ctx context.Context, i int) error {
		reporter := fmt.Sprintf("%srep-%d", prefix, i)
		resp, err := l.client("report", reporter).Do(ctx, http.MethodPost, "/v1/reports", map[string]any{
			"reporter_id": reporter, "reason": "counterfeit",
			"target": map[string]any{"kind": "item", "id": fmt.Sprintf("%st-%d", prefix, i), "owner_id": "owner-" + reporter}})
		if err != nil {
			return err
		}
		if resp.Status != http.StatusAccepted {
			return fmt.Errorf("%s", resp)
		}
		return nil
	})
	if filed.Failed > 0 {
		return fmt.Errorf("rounds: %d reports refused (%s)", filed.Failed, filed.FirstErr)
	}
	err = waitFor(ctx, l.o.drainMax, 200*time.Millisecond, "every round decided", func() (bool, string, error) {
		got := seen.count()
		return got >= int(filed.Done), fmt.Sprintf("%d/%d decided, %d votes accepted", got, filed.Done, b.accepted.Load()), nil
	})
	elapsed := time.Since(start)
	// The quorum vote's decision is visible before that vote is answered:
	// stopping the bots now would cancel votes the database has counted.
	if err == nil {
		err = waitFor(ctx, 30*time.Second, 20*time.Millisecond, "every vote answered", func() (bool, string, error) {
			n := b.inflight.Load()
			return n == 0, fmt.Sprintf("%d votes in flight", n), nil
		})
	}
	stopProfile()
	if err != nil {
		return err
	}
	ours := float64(seen.count()) / elapsed.Seconds()
	lat := voteToDecision(b.votes(), seen.snapshot())
	l.add(fmt.Sprintf("full rounds/s (report, draw of 3, votes by %d bots until the quorum of 2, decision), %d rounds", len(b.jurors), n),
		fmt.Sprintf("%.1f rounds/s (%d decided in %s)", ours, seen.count(), elapsed.Round(time.Millisecond)),
		fmt.Sprintf("%.1f workflows/s, p99 %s (1 activity + 3 events, probe worker on report's sidecar, %d conns)", bare.Rate(), ms(bare.Lat.Quantile(.99)), conns),
		ours/bare.Rate())
	l.add("vote -> decision visible (report database, polled every 20 ms)",
		fmt.Sprintf("p50 %s, p99 %s over %d rounds", ms(lat.Quantile(.5)), ms(lat.Quantile(.99)), lat.Count()), "", 0)
	l.note("rounds: %d votes accepted, %d after the quorum vote had closed the case, %d answered otherwise (%s)",
		b.accepted.Load(), b.late.Load(), b.refused.Load(), b.firstRefusal())
	stopBots()
	b.wg.Wait()
	err = l.creditRow(ctx, b.votes(), seen.snapshot(), credited, ours)
	stopWatch()
	<-watchDone
	<-watchDone
	return err
}

// bareWorkflow runs n probe workflows (one activity, three external events)
// on the report app's sidecar with conns drivers, the report app stopped
// meanwhile and started again afterwards.
func (l *load) bareWorkflow(ctx context.Context, n, conns int) (Result, error) {
	if err := l.plat.Kill("report"); err != nil {
		return Result{}, err
	}
	restarted := false
	restart := func() error {
		if restarted {
			return nil
		}
		restarted = true
		if err := l.plat.StartApp("report"); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		return l.plat.WaitReady(rctx)
	}
	defer func() { _ = restart() }()

	token := l.plat.DaprToken("report")
	withToken := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "dapr-api-token", token)
	}
	cc, err := grpc.NewClient(l.plat.SidecarGRPC("report"),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(withToken(ctx), method, req, reply, cc, opts...)
		}),
		grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(withToken(ctx), desc, cc, method, opts...)
		}))
	if err != nil {
		return Result{}, err
	}
	defer cc.Close()
	reg := workflow.NewRegistry()
	if err := reg.AddWorkflowN(probeWorkflow, probeRound); err != nil {
		return Result{}, err
	}
	if err := reg.AddActivityN(probeActivity, func(actx workflow.ActivityContext) (any, error) {
		var in string
		err := actx.GetInput(&in)
		return in, err
	}); err != nil {
		return Result{}, err
	}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	wf := workflow.NewClientWithLogger(cc, probeLogger{})
	if err := wf.StartWorker(wctx, reg); err != nil {
		return Result{}, err
	}
	id := func(i int) string { return fmt.Sprintf("%s-probe-%d", l.run, i) }
	// One probe to warm the worker's stream before the clock starts.
	if err := runProbe(ctx, wf, id(-1)); err != nil {
		return Result{}, fmt.Errorf("warm-up probe: %w", err)
	}
	res := Run(ctx, "bare workflow probe (1 activity + 3 events)", n, conns, 0, func(ctx context.Context, i int) error {
		return runProbe(ctx, wf, id(i))
	})
	stopWorker()
	if err := restart(); err != nil {
		return res, fmt.Errorf("start the report app again: %w", err)
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("%d probes failed (%s)", res.Failed, res.FirstErr)
	}
	return res, nil
}

const (
	probeWorkflow = "LoadProbeRound"
	probeActivity = "LoadProbeStep"
	probeEvent    = "vote"
)

// probeRound is the bare shape of a round: one activity, three events.
func probeRound(ctx *workflow.WorkflowContext) (any, error) {
	var in, out string
	if err := ctx.GetInput(&in); err != nil {
		return nil, err
	}
	if err := ctx.CallActivity(probeActivity, workflow.WithActivityInput(in)).Await(&out); err != nil {
		return nil, err
	}
	for range 3 {
		var v string
		if err := ctx.WaitForExternalEvent(probeEvent, time.Hour).Await(&v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func runProbe(ctx context.Context, wf *workflow.Client, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := wf.ScheduleWorkflow(ctx, probeWorkflow, workflow.WithInstanceID(id), workflow.WithInput(id)); err != nil {
		return err
	}
	for v := range 3 {
		if err := wf.RaiseEvent(ctx, id, probeEvent, workflow.WithEventPayload(fmt.Sprint(v))); err != nil {
			return err
		}
	}
	meta, err := wf.WaitForWorkflowCompletion(ctx, id)
	if err != nil {
		return err
	}
	if s := meta.RuntimeStatus.String(); s != "ORCHESTRATION_STATUS_COMPLETED" {
		return fmt.Errorf("probe %s ended %s", id, s)
	}
	return nil
}

// voters are bots that read their open tasks every 100 ms and vote on
// each new one at once (uphold when the case number is even).
type voters struct {
	l        *load
	jurors   []string
	accepted atomic.Int64
	late     atomic.Int64 // case_closed: the quorum vote had closed the case
	refused  atomic.Int64
	inflight atomic.Int64 // votes not answered yet
	wg       sync.WaitGroup

	mu      sync.Mutex
	seen    map[string]bool
	votedAt map[string][]time.Time // case -> when its accepted votes were sent
	refusal string
}

func (l *load) newVoters(ctx context.Context, n int) (*voters, error) {
	b := &voters{l: l, seen: map[string]bool{}, votedAt: map[string][]time.Time{}}
	for i := range n {
		id := fmt.Sprintf("%s-bot-%02d", l.run, i)
		if err := l.put(ctx, "reviewer", "/v1/users/"+id+"/profile", map[string]any{
			"tags": []string{"verified"}, "last_active_at": time.Now().UTC().Format(time.RFC3339)}); err != nil {
			return nil, err
		}
		b.jurors = append(b.jurors, id)
	}
	return b, nil
}

// run starts every bot the way a juror's app works: it listens on its task
// stream (pushed as the draw commits) and lists its tasks now and then to
// catch up on what a stream (re)opening missed. Polling alone at 10/s a bot
// cost the machine more than the rounds' own requests.
func (b *voters) run(ctx context.Context) {
	sc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(b.jurors) + 1}}
	for _, j := range b.jurors {
		b.wg.Go(func() { b.stream(ctx, sc, j) })
		b.wg.Go(func() { b.poll(ctx, j) })
	}
}

// catchUp is how often a bot lists its tasks besides its stream.
const catchUp = time.Second

func (b *voters) poll(ctx context.Context, juror string) {
	c := b.l.client("reviewer", juror)
	for ctx.Err() == nil {
		resp, err := c.Do(ctx, http.MethodGet, "/v1/reviewers/"+juror+"/tasks?limit=500", nil)
		var tasks struct {
			Items []struct {
				CaseID string `json:"case_id"`
			} `json:"items"`
		}
		if err == nil && resp.Status == http.StatusOK && resp.JSON(&tasks) == nil {
			for _, t := range tasks.Items {
				b.offer(ctx, juror, t.CaseID)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(catchUp):
		}
	}
}

// stream reads the juror's task stream (server-sent events, one task JSON
// per data line), reopening it when it ends.
func (b *voters) stream(ctx context.Context, hc *http.Client, juror string) {
	url := b.l.plat.AppURL("reviewer") + "/v1/reviewers/" + juror + "/stream"
	token := platform.Token(juror)
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := hc.Do(req); err == nil {
			if resp.StatusCode == http.StatusOK {
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					data, ok := strings.CutPrefix(sc.Text(), "data: ")
					var t struct {
						CaseID string `json:"case_id"`
					}
					if ok && json.Unmarshal([]byte(data), &t) == nil && t.CaseID != "" {
						b.offer(ctx, juror, t.CaseID)
					}
				}
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// offer votes on the juror's task of caseID, once.
func (b *voters) offer(ctx context.Context, juror, caseID string) {
	b.mu.Lock()
	fresh := !b.seen[juror+"|"+caseID]
	b.seen[juror+"|"+caseID] = true
	b.mu.Unlock()
	if fresh {
		b.wg.Go(func() { b.vote(ctx, juror, caseID) })
	}
}

// vote casts one ballot; a 403 or jury_not_ready (the jury is recorded a
// moment after its tasks are visible) is tried again for up to 15 s. An
// accepted vote is timed from its request's start (the quorum vote closes
// the case before it answers); a case_closed answer is a vote that came
// after the quorum, not a refusal.
func (b *voters) vote(ctx context.Context, juror, caseID string) {
	b.inflight.Add(1)
	defer b.inflight.Add(-1)
	c := b.l.client("report", juror)
	decision := "reject"
	if hash32(caseID)%2 == 0 {
		decision = "uphold"
	}
	first := time.Now()
	for ctx.Err() == nil {
		at := time.Now()
		resp, err := c.Do(ctx, http.MethodPost, "/v1/cases/"+caseID+"/votes", map[string]any{"decision": decision})
		if err == nil && resp.Status == http.StatusAccepted {
			b.accepted.Add(1)
			b.mu.Lock()
			b.votedAt[caseID] = append(b.votedAt[caseID], at)
			b.mu.Unlock()
			return
		}
		if err == nil && resp.ErrorCode() == "case_closed" {
			b.late.Add(1)
			return
		}
		settling := err != nil || resp.Status >= 500 || resp.Status == http.StatusForbidden || resp.ErrorCode() == "jury_not_ready"
		if !settling || time.Since(first) > 15*time.Second {
			b.refused.Add(1)
			b.mu.Lock()
			if b.refusal == "" {
				b.refusal = fmt.Sprintf("%v %v", resp, err)
			}
			b.mu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *voters) votes() map[string][]time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string][]time.Time, len(b.votedAt))
	for k, v := range b.votedAt {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

// cases is every case a bot voted on.
func (b *voters) cases() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.votedAt))
	for id := range b.votedAt {
		out = append(out, id)
	}
	return out
}

func (b *voters) firstRefusal() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refusal == "" {
		return "none"
	}
	return "first: " + b.refusal
}

func hash32(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// sightings records when each id was first read by a watch.
type sightings struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newSightings() *sightings { return &sightings{seen: map[string]time.Time{}} }

func (w *sightings) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen)
}

func (w *sightings) snapshot() map[string]time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]time.Time, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}

// unseen is the ids of ids not seen yet.
func (w *sightings) unseen(ids []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := w.seen[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// watch runs read every 20 ms until ctx ends and records the first
// sighting of each id (the rows' one column) in w.
func watch(ctx context.Context, what string, w *sightings, read func(context.Context) (pgx.Rows, error)) error {
	for {
		rows, err := read(ctx)
		if err == nil {
			now := time.Now()
			w.mu.Lock()
			for rows.Next() {
				var id string
				if err = rows.Scan(&id); err != nil {
					break
				}
				if _, ok := w.seen[id]; !ok {
					w.seen[id] = now
				}
			}
			w.mu.Unlock()
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			logf("watch %s: %v", what, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// watchDecisions reads the decided cases of the run's targets every 20 ms.
func (l *load) watchDecisions(ctx context.Context, prefix string, w *sightings) error {
	return watch(ctx, "decisions", w, func(ctx context.Context) (pgx.Rows, error) {
		return l.report.Query(ctx, `SELECT id FROM cases WHERE target_id LIKE $1 || '%' AND decided_at IS NOT NULL`, prefix)
	})
}

// voteToDecision is, for each decided case, the time from the last vote
// accepted before its decision was seen to that sighting. Cases without
// such a vote are left out.
func voteToDecision(votes map[string][]time.Time, decided map[string]time.Time) *Hist {
	return voteToVisible(votes, decided, decided)
}

// probeLogger keeps the probe worker's warnings and errors, in the tool's
// progress lines, and drops its debug and info lines.
type probeLogger struct{}

var _ backend.Logger = probeLogger{}

func (probeLogger) Debug(...any)          {}
func (probeLogger) Debugf(string, ...any) {}
func (probeLogger) Info(...any)           {}
func (probeLogger) Infof(string, ...any)  {}
func (probeLogger) Warn(v ...any)         { logf("probe worker: %s", fmt.Sprint(v...)) }
func (probeLogger) Warnf(f string, v ...any) {
	logf("probe worker: %s", fmt.Sprintf(f, v...))
}
func (probeLogger) Error(v ...any) { logf("probe worker: %s", fmt.Sprint(v...)) }
func (probeLogger) Errorf(f string, v ...any) {
	logf("probe worker: %s", fmt.Sprintf(f, v...))
}
