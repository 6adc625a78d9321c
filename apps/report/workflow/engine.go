package workflow

import (
	"context"
	"errors"
	"strings"

	"github.com/dapr/durabletask-go/api"
	"github.com/dapr/durabletask-go/workflow"

	"github.com/govern/report/app"
)

// Engine starts rounds and hands them votes through the sidecar's workflow API.
type Engine struct{ Client *workflow.Client }

var _ app.Rounds = Engine{}

func (e Engine) Start(ctx context.Context, in app.RoundInput) error {
	_, err := e.Client.ScheduleWorkflow(ctx, RoundName, workflow.WithInstanceID(InstanceID(in.CaseID)), workflow.WithInput(in))
	return err
}

func (e Engine) Exists(ctx context.Context, caseID string) (bool, error) {
	_, err := e.Client.FetchWorkflowMetadata(ctx, InstanceID(caseID))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, api.ErrInstanceNotFound) || strings.Contains(strings.ToLower(err.Error()), "not found") {
		return false, nil
	}
	return false, err
}

func (e Engine) RaiseVote(ctx context.Context, caseID string, v app.Vote) error {
	return e.Client.RaiseEvent(ctx, InstanceID(caseID), VoteEvent, workflow.WithEventPayload(v))
}
