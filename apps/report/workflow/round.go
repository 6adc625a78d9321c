// Package workflow runs a case's vote round as a durable Dapr Workflow: draw
// the jury, collect votes, remind jurors half-way, release and replace those
// who do not answer in time, and close the case as soon as one side reaches
// the quorum or when the round's time is up. Workflow code is deterministic
// (time comes from the engine, every side effect from an activity);
// activities are idempotent because the engine may run them more than once.
package workflow

import (
	"errors"
	"fmt"
	"time"

	"github.com/dapr/durabletask-go/task"
	"github.com/dapr/durabletask-go/workflow"

	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// Names the engine knows the round and its activities by.
const (
	RoundName          = "Round"
	DrawJuryName       = "DrawJury"
	DrawSubstituteName = "DrawSubstitute"
	ReleaseJurorName   = "ReleaseJuror"
	RemindJurorName    = "RemindJuror"
	CloseCaseName      = "CloseCase"
	VoteEvent          = "vote"
)

// InstanceID is the workflow instance that runs caseID's round.
func InstanceID(caseID string) string { return "round-" + caseID }

// PoolRetryInterval is how long a round waits before asking again for jurors
// the pool could not yet supply.
const PoolRetryInterval = 5 * time.Second

// Activities retry transient failures (a database or sidecar restarting)
// with back-off for as long as a round can last.
var retry = workflow.WithActivityRetryPolicy(&workflow.RetryPolicy{
	MaxAttempts:          10000,
	InitialRetryInterval: 500 * time.Millisecond,
	BackoffCoefficient:   2,
	MaxRetryInterval:     15 * time.Second,
})

// JurorRef names a juror of a case (activity input).
type JurorRef struct {
	CaseID   string    `json:"case_id"`
	JurorID  string    `json:"juror_id"`
	Deadline time.Time `json:"deadline"`
}

// Released is the ReleaseJuror activity's answer: empty Vote when released.
type Released struct {
	Vote string `json:"vote"`
}

// Round is the workflow of one case's vote round.
func Round(ctx *workflow.WorkflowContext) (any, error) {
	var in app.RoundInput
	if err := ctx.GetInput(&in); err != nil {
		return nil, fmt.Errorf("read round input: %w", err)
	}
	r := domain.NewRound(in.Policy, in.Deadline)
	drawn, err := drawJury(ctx, in)
	if err != nil {
		return nil, err
	}
	if drawn != nil {
		for _, j := range drawn.Jurors {
			r.Seat(j, drawn.DrawnAt)
		}
		if err := runRound(ctx, in, r); err != nil {
			return nil, err
		}
	}
	var d app.Decision
	if err := ctx.CallActivity(CloseCaseName, workflow.WithActivityInput(in.CaseID), retry).Await(&d); err != nil {
		return nil, fmt.Errorf("close case %s: %w", in.CaseID, err)
	}
	return d.Decision, nil
}

// drawJury asks for a whole jury until one is drawn or the round's deadline
// passes (nil).
func drawJury(ctx *workflow.WorkflowContext, in app.RoundInput) (*app.Draw, error) {
	for {
		var d app.Draw
		if err := ctx.CallActivity(DrawJuryName, workflow.WithActivityInput(in.CaseID), retry).Await(&d); err != nil {
			return nil, fmt.Errorf("draw jury for case %s: %w", in.CaseID, err)
		}
		if !d.PoolTooSmall {
			return &d, nil
		}
		left := in.Deadline.Sub(ctx.CurrentTimeUTC())
		if left <= 0 {
			return nil, nil
		}
		if err := ctx.CreateTimer(min(PoolRetryInterval, left)).Await(nil); err != nil {
			return nil, err
		}
	}
}

// runRound waits for votes until a side reaches the quorum or the deadline
// passes, reminding, releasing and replacing jurors on the way.
func runRound(ctx *workflow.WorkflowContext, in app.RoundInput, r *domain.Round) error {
	vacancies := 0          // released seats still waiting for a substitute
	var retrySubs time.Time // when to ask the pool again after it was too small
	for {
		now := ctx.CurrentTimeUTC()
		if !now.Before(r.Deadline()) {
			return nil
		}
		for _, j := range r.DueReminders(now) {
			ref := JurorRef{CaseID: in.CaseID, JurorID: j, Deadline: r.DeadlineOf(j)}
			if err := ctx.CallActivity(RemindJurorName, workflow.WithActivityInput(ref), retry).Await(nil); err != nil {
				return err
			}
			r.MarkReminded(j)
		}
		for _, j := range r.Expired(now) {
			var rel Released
			ref := JurorRef{CaseID: in.CaseID, JurorID: j}
			if err := ctx.CallActivity(ReleaseJurorName, workflow.WithActivityInput(ref), retry).Await(&rel); err != nil {
				return err
			}
			if rel.Vote != "" { // the vote beat the timeout in the database
				_ = r.Cast(j, rel.Vote)
				if _, done := r.Decided(); done {
					return nil
				}
				continue
			}
			r.Release(j)
			vacancies++
		}
		for vacancies > 0 && r.CanSubstitute() && !now.Before(retrySubs) {
			var d app.Draw
			req := app.SubstituteRequest{CaseID: in.CaseID, Seq: len(r.Drawn()), Exclude: r.Drawn()}
			if err := ctx.CallActivity(DrawSubstituteName, workflow.WithActivityInput(req), retry).Await(&d); err != nil {
				return err
			}
			if d.PoolTooSmall {
				retrySubs = now.Add(PoolRetryInterval)
				break
			}
			r.Substitute(d.Jurors[0], d.DrawnAt)
			vacancies--
		}
		if !r.CanSubstitute() {
			vacancies = 0
		}

		wake := r.NextWake()
		if vacancies > 0 && retrySubs.Before(wake) {
			wake = retrySubs
		}
		var v app.RoundEvent
		err := ctx.WaitForExternalEvent(VoteEvent, max(wake.Sub(now), time.Millisecond)).Await(&v)
		if errors.Is(err, task.ErrTaskCanceled) {
			continue // time to remind, release, substitute or close
		}
		if err != nil {
			return fmt.Errorf("wait for votes on case %s: %w", in.CaseID, err)
		}
		if r.Cast(v.JurorID, v.Decision) != nil {
			continue // repeated or refused; the database already answered the voter
		}
		if _, done := r.Decided(); done {
			return nil
		}
	}
}

// Register adds the round and its activities, bound to svc, to reg.
func Register(reg *workflow.Registry, svc *app.Service) error {
	return errors.Join(
		reg.AddWorkflowN(RoundName, Round),
		reg.AddActivityN(DrawJuryName, func(actx workflow.ActivityContext) (any, error) {
			var caseID string
			if err := actx.GetInput(&caseID); err != nil {
				return nil, err
			}
			return svc.DrawJury(actx.Context(), caseID)
		}),
		reg.AddActivityN(DrawSubstituteName, func(actx workflow.ActivityContext) (any, error) {
			var req app.SubstituteRequest
			if err := actx.GetInput(&req); err != nil {
				return nil, err
			}
			return svc.DrawSubstitute(actx.Context(), req)
		}),
		reg.AddActivityN(ReleaseJurorName, func(actx workflow.ActivityContext) (any, error) {
			var ref JurorRef
			if err := actx.GetInput(&ref); err != nil {
				return nil, err
			}
			vote, err := svc.ReleaseJuror(actx.Context(), ref.CaseID, ref.JurorID)
			return Released{Vote: vote}, err
		}),
		reg.AddActivityN(RemindJurorName, func(actx workflow.ActivityContext) (any, error) {
			var ref JurorRef
			if err := actx.GetInput(&ref); err != nil {
				return nil, err
			}
			return nil, svc.RemindJuror(actx.Context(), ref.CaseID, ref.JurorID, ref.Deadline)
		}),
		reg.AddActivityN(CloseCaseName, func(actx workflow.ActivityContext) (any, error) {
			var caseID string
			if err := actx.GetInput(&caseID); err != nil {
				return nil, err
			}
			return svc.CloseCase(actx.Context(), caseID)
		}),
	)
}
