// Package workflow runs a case's vote round as a durable Dapr Workflow: draw
// the jury, collect votes until one side reaches the quorum or the deadline
// passes, then close the case. Workflow code is deterministic; every side
// effect happens in an activity, and activities are idempotent because the
// engine may run them more than once.
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
	RoundName     = "Round"
	DrawJuryName  = "DrawJury"
	CloseCaseName = "CloseCase"
	VoteEvent     = "vote"
)

// InstanceID is the workflow instance that runs caseID's round.
func InstanceID(caseID string) string { return "round-" + caseID }

// PoolRetryInterval is how long a round waits before asking again for a jury
// the pool could not yet supply.
const PoolRetryInterval = 5 * time.Second

// DrawResult is the DrawJury activity's answer.
type DrawResult struct {
	Jurors       []string `json:"jurors"`
	PoolTooSmall bool     `json:"pool_too_small"`
}

// Activities retry transient failures (a database or sidecar restarting)
// with back-off for as long as a round can last.
var retry = workflow.WithActivityRetryPolicy(&workflow.RetryPolicy{
	MaxAttempts:          10000,
	InitialRetryInterval: 500 * time.Millisecond,
	BackoffCoefficient:   2,
	MaxRetryInterval:     15 * time.Second,
})

// Round is the workflow of one case's vote round.
func Round(ctx *workflow.WorkflowContext) (any, error) {
	var in app.RoundInput
	if err := ctx.GetInput(&in); err != nil {
		return nil, fmt.Errorf("read round input: %w", err)
	}
	jurors, err := drawJury(ctx, in)
	if err != nil {
		return nil, err
	}
	if jurors != nil {
		if err := collectVotes(ctx, in, jurors); err != nil {
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
// passes (nil jurors).
func drawJury(ctx *workflow.WorkflowContext, in app.RoundInput) ([]string, error) {
	for {
		var res DrawResult
		if err := ctx.CallActivity(DrawJuryName, workflow.WithActivityInput(in.CaseID), retry).Await(&res); err != nil {
			return nil, fmt.Errorf("draw jury for case %s: %w", in.CaseID, err)
		}
		if !res.PoolTooSmall {
			return res.Jurors, nil
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

// collectVotes counts votes as they arrive until a side reaches the quorum or
// the deadline passes.
func collectVotes(ctx *workflow.WorkflowContext, in app.RoundInput, jurors []string) error {
	round := domain.NewRound(in.Policy.Quorum, jurors)
	for {
		left := in.Deadline.Sub(ctx.CurrentTimeUTC())
		if left <= 0 {
			return nil
		}
		var v app.Vote
		err := ctx.WaitForExternalEvent(VoteEvent, left).Await(&v)
		if errors.Is(err, task.ErrTaskCanceled) {
			return nil // deadline
		}
		if err != nil {
			return fmt.Errorf("wait for votes on case %s: %w", in.CaseID, err)
		}
		if round.Cast(v.JurorID, v.Decision) != nil {
			continue // the database refused it already; nothing to count
		}
		if _, done := round.Decided(); done {
			return nil
		}
	}
}

// Register adds the round and its activities, bound to svc, to r.
func Register(r *workflow.Registry, svc *app.Service) error {
	drawJury := func(actx workflow.ActivityContext) (any, error) {
		var caseID string
		if err := actx.GetInput(&caseID); err != nil {
			return nil, err
		}
		jurors, err := svc.DrawJury(actx.Context(), caseID)
		if errors.Is(err, app.ErrPoolTooSmall) {
			return DrawResult{PoolTooSmall: true}, nil
		}
		if err != nil {
			return nil, err
		}
		return DrawResult{Jurors: jurors}, nil
	}
	closeCase := func(actx workflow.ActivityContext) (any, error) {
		var caseID string
		if err := actx.GetInput(&caseID); err != nil {
			return nil, err
		}
		return svc.CloseCase(actx.Context(), caseID)
	}
	return errors.Join(
		r.AddWorkflowN(RoundName, Round),
		r.AddActivityN(DrawJuryName, drawJury),
		r.AddActivityN(CloseCaseName, closeCase),
	)
}
