// Package reviewer calls the reviewer service through Dapr service invocation.
package reviewer

import (
	"context"
	"net/http"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/app"
)

// Client implements app.Reviewer.
type Client struct {
	Sidecar *daprx.Client
	AppID   string
}

var _ app.Reviewer = Client{}

func (c Client) DrawJury(ctx context.Context, req app.JuryRequest) ([]string, error) {
	var out struct {
		Jurors       []string `json:"jurors"`
		PoolTooSmall bool     `json:"pool_too_small"`
	}
	err := c.Sidecar.Invoke(ctx, c.AppID, http.MethodPost, "internal/juries", req, &out)
	if err == nil && out.PoolTooSmall {
		return nil, app.ErrPoolTooSmall
	}
	return out.Jurors, err
}

func (c Client) CloseTask(ctx context.Context, caseID, jurorID, reason string) error {
	body := map[string]string{"case_id": caseID, "juror_id": jurorID, "reason": reason}
	return c.Sidecar.Invoke(ctx, c.AppID, http.MethodPost, "internal/tasks/close", body, nil)
}
