// Package workflow runs a case's vote round as a durable Dapr Workflow: draw
// the jury, collect votes, remind jurors half-way, release and replace those
// who do not answer in time (or who reported the target), and close the case
// when the round's time is up. The vote that brings a side of a fixed-size
// jury to the quorum closes the case in its own transaction and tells the
// round so in its event: the round then ends without a closing step.
//
// Every round ends. An activity whose error no retry can cure (a refusal, a
// case or juror that does not exist) answers with a failure instead of an
// error, so it is not retried; transient errors are retried for a bounded
// time, well inside the round's max_duration. A round that cannot go on
// closes its case as escalated, with the reason on the timeline. Should even
// that fail, the workflow fails, and the repair loop (app.Service.Repair)
// starts it again: the round rebuilds itself from the report database, which
// is also how it continues as new to keep its history bounded.
//
// Workflow code is deterministic (time comes from the engine, every side
// effect from an activity); activities are idempotent because the engine
// may run them more than once.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dapr/durabletask-go/workflow"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/telemetry"

	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// Names the engine knows the round and its activities by. The round's name
// changed when it learned to rebuild itself from the database: a round
// started under the old name fails on replay and the repair loop starts it
// again under this one.
const (
	RoundName          = "VoteRound"
	LoadRoundName      = "LoadRound"
	DrawJuryName       = "DrawJury"
	BeginRoundName     = "BeginRound"
	DrawSubstituteName = "DrawSubstitute"
	ReleaseJurorName   = "ReleaseJuror"
	RemindJurorName    = "RemindJuror"
	CloseCaseName      = "CloseCase"
	// VoteEvent is the round's one external event (app.RoundEvent): a vote
	// or a recusal. There is no WhenAny, so one name carries both.
	VoteEvent = "vote"
)

// Shapes of the round (app.RoundInput.Shape): the steps a round takes, so
// that a release that changes them still replays the rounds in flight.
//   - ShapeLoadThenDraw (0): LoadRound, then DrawJury (and, adaptive, LoadRound
//     again) before the first wait.
//   - ShapeBegin (1): one BeginRound does all three.
//   - ShapeWakes (2): as ShapeBegin, but the waits for votes have no durable
//     timer: the report app wakes the round (app.RoundEvent.Wake) when its
//     database says a reminder, a juror's deadline or the round's deadline
//     is due (app.Service.RunWakes). Only a wait to ask the pool again
//     keeps its timer (the database does not know that time).
//
// Rounds start with the newest shape (Engine.Start); a round keeps its shape
// for life, continue-as-new included. A shape may go once no round of it is
// left (none is open past its max_duration).
const (
	ShapeLoadThenDraw = 0
	ShapeBegin        = 1
	ShapeWakes        = 2
	CurrentShape      = ShapeWakes
)

// InstanceID is the workflow instance that runs caseID's round.
func InstanceID(caseID string) string { return "round-" + caseID }

// RoundInstanceID is the workflow instance that runs round of caseID: the
// first round's is InstanceID, an appeal round's "round-<case>-<round>".
func RoundInstanceID(caseID string, round int) string {
	if round > 1 {
		return fmt.Sprintf("%s-%d", InstanceID(caseID), round)
	}
	return InstanceID(caseID)
}

// Bounds on one generation of a round's history: after this many waits for
// the pool, or this many wake-ups of any kind, the round continues as new.
const (
	PoolWaitsPerGeneration = 20
	WakesPerGeneration     = 400
)

// activityRetry retries transient activity errors with back-off for a
// quarter of the round's max_duration (between one minute and six hours);
// after that the round gives up and escalates.
func activityRetry(p domain.Policy) workflow.CallActivityOption {
	budget := min(max(time.Duration(p.MaxDuration)/4, time.Minute), 6*time.Hour)
	return workflow.WithActivityRetryPolicy(&workflow.RetryPolicy{
		MaxAttempts:          1 << 20, // bounded by RetryTimeout
		InitialRetryInterval: time.Second,
		BackoffCoefficient:   2,
		MaxRetryInterval:     time.Minute,
		RetryTimeout:         budget,
	})
}

// closeRetry retries closing the case for an hour; beyond that the
// workflow fails and the repair loop takes over.
var closeRetry = workflow.WithActivityRetryPolicy(&workflow.RetryPolicy{
	MaxAttempts:          1 << 20,
	InitialRetryInterval: time.Second,
	BackoffCoefficient:   2,
	MaxRetryInterval:     time.Minute,
	RetryTimeout:         time.Hour,
})

// Result is every activity's answer: a value, or a failure that no retry
// can cure (an activity returns an error only for what a retry may cure).
type Result[T any] struct {
	Value   T      `json:"value"`
	Failure string `json:"failure,omitempty"`
}

// JurorRef names a juror of a case (activity input).
type JurorRef struct {
	CaseID   string    `json:"case_id"`
	JurorID  string    `json:"juror_id"`
	Deadline time.Time `json:"deadline"`
}

// CloseRequest closes a case; Failure says why the round could not go on.
type CloseRequest struct {
	CaseID  string `json:"case_id"`
	Failure string `json:"failure,omitempty"`
	// Round is the round closing (absent: the case's current one).
	Round int `json:"round,omitempty"`
}

// errFailed carries a permanent failure out of the round's steps.
type errFailed struct{ reason string }

func (e errFailed) Error() string { return e.reason }

// errContinued means the round continued as new: this generation ends
// without closing the case.
var errContinued = errors.New("continued as new")

// round is one generation of a case's round.
type round struct {
	ctx   *workflow.WorkflowContext
	in    app.RoundInput
	retry workflow.CallActivityOption
	r     *domain.Round
	// this generation's counts, bounding its history
	poolWaits, wakes int
	// closed is the decision of the vote that closed the case itself
	// (app.RoundEvent.Closed): the round ends without CloseCase.
	closed string
}

// Round is the workflow of one case's vote round.
func Round(ctx *workflow.WorkflowContext) (any, error) {
	var in app.RoundInput
	if err := ctx.GetInput(&in); err != nil {
		return nil, fmt.Errorf("read round input: %w", err)
	}
	rw := &round{ctx: ctx, in: in, retry: activityRetry(in.Policy)}
	failure := ""
	switch err := rw.run(); {
	case errors.Is(err, errContinued):
		return nil, nil
	case err != nil:
		failure = err.Error()
	case rw.closed != "":
		return rw.closed, nil
	}
	var res Result[string]
	req, err := rw.traced(CloseRequest{CaseID: in.CaseID, Failure: failure, Round: in.Round})
	if err != nil {
		return nil, fmt.Errorf("close case %s: %w", in.CaseID, err)
	}
	if err := ctx.CallActivity(CloseCaseName, workflow.WithActivityInput(req), closeRetry).Await(&res); err != nil {
		return nil, fmt.Errorf("close case %s: %w", in.CaseID, err)
	}
	if res.Failure != "" {
		return nil, fmt.Errorf("close case %s: %s", in.CaseID, res.Failure)
	}
	return res.Value, nil
}

// Traced is every activity's input: the use case's input with the case and
// the round's trace context, which the engine does not carry to activities.
// An activity scheduled before inputs were wrapped gets its bare input.
type Traced struct {
	CaseID      string          `json:"case_id"`
	Traceparent string          `json:"traceparent,omitempty"`
	Input       json.RawMessage `json:"input"`
}

func (rw *round) traced(input any) (Traced, error) {
	b, err := json.Marshal(input)
	return Traced{CaseID: rw.in.CaseID, Traceparent: rw.in.Traceparent, Input: b}, err
}

// call runs an activity and turns its failure into errFailed.
func call[T any](rw *round, name string, input any, out *T) error {
	var res Result[T]
	in, err := rw.traced(input)
	if err != nil {
		return errFailed{fmt.Sprintf("%s: encode input: %v", name, err)}
	}
	if err := rw.ctx.CallActivity(name, workflow.WithActivityInput(in), rw.retry).Await(&res); err != nil {
		return fmt.Errorf("%s: gave up retrying: %w", name, err)
	}
	if res.Failure != "" {
		return errFailed{fmt.Sprintf("%s: %s", name, res.Failure)}
	}
	*out = res.Value
	return nil
}

func (rw *round) run() error {
	st, refused, err := rw.begin()
	if err != nil {
		return err
	}
	if domain.Closed(st.Status) {
		return nil // closed already: closing again returns the decision
	}
	rw.r = domain.RestoreRound(rw.in.Policy, rw.in.Deadline, st.Seats)
	if rw.in.Policy.IsAdaptive() {
		return rw.runAdaptive(refused) // workflow/adaptive.go
	}
	if len(rw.r.Drawn()) == 0 {
		drawn, err := rw.drawJury(refused)
		if err != nil || !drawn {
			return err
		}
	}
	return rw.collectVotes()
}

// begin reads the round's recorded state the way its shape does: one
// BeginRound that also draws the jury (ShapeBegin; refused says the pool
// turned that draw down), or LoadRound alone, the draw following
// (ShapeLoadThenDraw).
func (rw *round) begin() (st app.RoundState, refused bool, err error) {
	if rw.in.Shape >= ShapeBegin {
		var b app.Begin
		err := call(rw, BeginRoundName, rw.in.CaseID, &b)
		return b.State, b.PoolTooSmall, err
	}
	err = call(rw, LoadRoundName, rw.in.CaseID, &st)
	return st, false, err
}

// drawJury asks for a whole jury until one is drawn (true) or the round's
// deadline passes (false), backing off while the pool is too small; with
// refused, the pool has just refused a draw and it backs off first.
func (rw *round) drawJury(refused bool) (bool, error) {
	for {
		if !refused {
			var d app.Draw
			if err := call(rw, DrawJuryName, rw.in.CaseID, &d); err != nil {
				return false, err
			}
			if !d.PoolTooSmall {
				for _, j := range d.Jurors {
					rw.r.Seat(j, d.DrawnAt)
				}
				for _, j := range d.Recused {
					rw.r.Recuse(j)
				}
				rw.in.PoolWaits = 0
				return true, nil
			}
		}
		refused = false
		left := rw.in.Deadline.Sub(rw.ctx.CurrentTimeUTC())
		if left <= 0 {
			return false, nil
		}
		if err := rw.ctx.CreateTimer(min(rw.poolBackoff(), left)).Await(nil); err != nil {
			return false, err
		}
		if err := rw.waitedForPool(); err != nil {
			return false, err
		}
	}
}

func (rw *round) poolBackoff() time.Duration {
	p := rw.in.PoolRetry
	return domain.PoolBackoff(rw.in.PoolWaits, time.Duration(p.Initial), time.Duration(p.Max))
}

// waitedForPool counts one wait for the pool and continues as new once this
// generation has waited PoolWaitsPerGeneration times.
func (rw *round) waitedForPool() error {
	rw.in.PoolWaits++
	rw.poolWaits++
	rw.ctx.SetCustomStatus(fmt.Sprintf(`{"pool_waits":%d}`, rw.in.PoolWaits))
	if rw.poolWaits >= PoolWaitsPerGeneration {
		return rw.continueAsNew()
	}
	return nil
}

func (rw *round) continueAsNew() error {
	rw.ctx.ContinueAsNew(rw.in, workflow.WithKeepUnprocessedEvents())
	return errContinued
}

// collectVotes waits for votes until a side reaches the quorum or the
// deadline passes, reminding, releasing and replacing jurors on the way.
func (rw *round) collectVotes() error {
	ctx, r, caseID := rw.ctx, rw.r, rw.in.CaseID
	var retrySubs time.Time // when to ask the pool again after it was too small
	for {
		if _, done := r.Decided(); done {
			return nil
		}
		now := ctx.CurrentTimeUTC()
		if !now.Before(r.Deadline()) {
			return nil
		}
		if err := rw.remindAndRelease(now); err != nil {
			return err
		}
		if _, done := r.Decided(); done {
			return nil
		}
		for r.NeedsSubstitute() && !now.Before(retrySubs) {
			var d app.Draw
			req := app.SubstituteRequest{CaseID: caseID, Seq: len(r.Drawn()), Exclude: r.Drawn()}
			if err := call(rw, DrawSubstituteName, req, &d); err != nil {
				return err
			}
			if d.CaseClosed {
				return nil // closed meanwhile (overdue): CloseCase reads its decision
			}
			if d.PoolTooSmall {
				retrySubs = now.Add(rw.poolBackoff())
				if err := rw.waitedForPool(); err != nil {
					return err
				}
				break
			}
			rw.in.PoolWaits = 0
			r.Substitute(d.Jurors[0], d.DrawnAt)
			for _, j := range d.Recused {
				r.Recuse(j)
			}
		}

		wake := r.NextWake()
		if r.NeedsSubstitute() && retrySubs.Before(wake) {
			wake = retrySubs
		}
		if rw.wakes++; rw.wakes >= WakesPerGeneration {
			return rw.continueAsNew()
		}
		e, ok := rw.wait(wake, now, r.NeedsSubstitute() && retrySubs.After(now))
		if !ok {
			continue // time to remind, release, substitute or close; or not one of ours
		}
		if e.Withdrawn {
			return nil // the case is closed: CloseCase reads it, nobody is paid
		}
		if e.Recused {
			r.Recuse(e.JurorID)
			continue
		}
		// A repeated or refused vote changes nothing; the database already
		// answered the voter.
		_ = r.Cast(e.JurorID, e.Decision)
		if e.Closed != "" {
			rw.closed = e.Closed // the quorum vote closed the case
			return nil
		}
	}
}

// wait waits for the round's next event until wake (ok false when the time
// came first or the event is not one of ours, and for a wake event). Rounds
// of ShapeWakes wait without a timer, the report app waking them when
// something is due, unless timed: a time only the round knows (asking the
// pool again).
func (rw *round) wait(wake, now time.Time, timed bool) (e app.RoundEvent, ok bool) {
	timeout := max(wake.Sub(now), time.Millisecond)
	if rw.in.Shape >= ShapeWakes && !timed {
		timeout = -1
	}
	if err := rw.ctx.WaitForExternalEvent(VoteEvent, timeout).Await(&e); err != nil || e.Wake {
		return app.RoundEvent{}, false
	}
	return e, true
}

// activity adapts a use case to an activity: an error that no retry can
// cure (app.Permanent) becomes the Result's failure, so the engine does not
// retry it; any other error is returned, and retried. Each run is a span in
// the round's trace (Traced), tagged with the case id; the sidecar's own
// activity span, in a trace of the engine's, is linked to it.
func activity[In, Out any](name string, f func(context.Context, In) (Out, error)) workflow.Activity {
	return func(actx workflow.ActivityContext) (res any, err error) {
		var in In
		var env Traced
		if actx.GetInput(&env) != nil || len(env.Input) == 0 {
			env = Traced{}
			if err := actx.GetInput(&in); err != nil {
				return Result[Out]{Failure: "unreadable input: " + err.Error()}, nil
			}
		} else if err := json.Unmarshal(env.Input, &in); err != nil {
			return Result[Out]{Failure: "unreadable input: " + err.Error()}, nil
		}
		ctx := actx.Context()
		opts := []trace.SpanStartOption{trace.WithAttributes(telemetry.CaseID.String(env.CaseID))}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && env.Traceparent != "" {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
			ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
		}
		ctx, span := telemetry.Start(telemetry.WithTraceparent(ctx, env.Traceparent), "activity "+name, opts...)
		defer func() { telemetry.End(span, err) }()
		out, err := f(ctx, in)
		if err != nil {
			if app.Permanent(err) {
				span.SetAttributes(attribute.String("activity.failure", err.Error()))
				return Result[Out]{Failure: err.Error()}, nil
			}
			return nil, err
		}
		return Result[Out]{Value: out}, nil
	}
}

// Register adds the round and its activities, bound to svc, to reg.
func Register(reg *workflow.Registry, svc *app.Service) error {
	return errors.Join(
		reg.AddWorkflowN(RoundName, Round),
		reg.AddActivityN(LoadRoundName, activity(LoadRoundName, svc.LoadRound)),
		reg.AddActivityN(DrawJuryName, activity(DrawJuryName, svc.DrawJury)),
		reg.AddActivityN(BeginRoundName, activity(BeginRoundName, svc.BeginRound)),
		reg.AddActivityN(DrawSubstituteName, activity(DrawSubstituteName, svc.DrawSubstitute)),
		reg.AddActivityN(ReleaseJurorName, activity(ReleaseJurorName, func(ctx context.Context, ref JurorRef) (string, error) {
			return svc.ReleaseJuror(ctx, ref.CaseID, ref.JurorID)
		})),
		reg.AddActivityN(RemindJurorName, activity(RemindJurorName, func(ctx context.Context, ref JurorRef) (bool, error) {
			return true, svc.RemindJuror(ctx, ref.CaseID, ref.JurorID, ref.Deadline)
		})),
		reg.AddActivityN(CloseCaseName, activity(CloseCaseName, func(ctx context.Context, req CloseRequest) (string, error) {
			d, err := svc.CloseRound(ctx, req.CaseID, req.Round, req.Failure)
			return d.Decision, err
		})),
		registerAdaptive(reg, svc),
	)
}
