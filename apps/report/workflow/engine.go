package workflow

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/dapr/durabletask-go/api"
	"github.com/dapr/durabletask-go/workflow"

	"github.com/govern/report/app"
)

// Engine starts rounds and hands them votes through the sidecar's workflow
// API. Until Connect is called it refuses work (and the app is not ready).
type Engine struct {
	client atomic.Pointer[workflow.Client]
	// Shape is the shape new rounds start with (see the shapes in round.go;
	// main sets CurrentShape unless ROUND_SHAPE says otherwise). A release that adds a shape first ships it
	// with the old shape here, so that replicas of both releases can replay
	// every round, and switches once no replica of the old release is left.
	Shape int
}

var _ app.Rounds = (*Engine)(nil)

// ErrNotConnected means the workflow worker has not reached the sidecar yet.
var ErrNotConnected = errors.New("workflow engine not connected yet")

// Connect makes the engine use c.
func (e *Engine) Connect(c *workflow.Client) { e.client.Store(c) }

// Ready reports ErrNotConnected until Connect was called.
func (e *Engine) Ready(context.Context) error {
	if e.client.Load() == nil {
		return ErrNotConnected
	}
	return nil
}

func (e *Engine) get() (*workflow.Client, error) {
	c := e.client.Load()
	if c == nil {
		return nil, ErrNotConnected
	}
	return c, nil
}

func (e *Engine) Start(ctx context.Context, in app.RoundInput) error {
	c, err := e.get()
	if err != nil {
		return err
	}
	in.Shape = e.Shape
	_, err = c.ScheduleWorkflow(ctx, RoundName, workflow.WithInstanceID(RoundInstanceID(in.CaseID, in.Round)), workflow.WithInput(in))
	return err
}

func (e *Engine) Status(ctx context.Context, caseID string, round int) (app.RoundStatus, error) {
	c, err := e.get()
	if err != nil {
		return app.RoundMissing, err
	}
	m, err := c.FetchWorkflowMetadata(ctx, RoundInstanceID(caseID, round))
	if errors.Is(err, api.ErrInstanceNotFound) || (err != nil && strings.Contains(strings.ToLower(err.Error()), "not found")) {
		return app.RoundMissing, nil
	}
	if err != nil {
		return app.RoundMissing, err
	}
	switch m.RuntimeStatus {
	case workflow.StatusCompleted, workflow.StatusFailed, workflow.StatusTerminated, workflow.StatusCanceled:
		return app.RoundEnded, nil
	}
	return app.RoundAlive, nil
}

func (e *Engine) Raise(ctx context.Context, ev app.RoundEvent) error {
	c, err := e.get()
	if err != nil {
		return err
	}
	return c.RaiseEvent(ctx, RoundInstanceID(ev.CaseID, ev.Round), VoteEvent, workflow.WithEventPayload(ev))
}
