// Package reviewer calls the reviewer service through Dapr service invocation.
package reviewer

import (
	"context"
	"fmt"
	"net/http"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// Client implements app.Reviewer.
type Client struct {
	Sidecar *daprx.Client
	AppID   string
}

var _ app.Reviewer = Client{}

func (c Client) DrawJury(ctx context.Context, req app.JuryRequest) ([]string, map[string]domain.Reliability, error) {
	var out struct {
		Jurors       []string                      `json:"jurors"`
		PoolTooSmall bool                          `json:"pool_too_small"`
		Reliability  map[string]domain.Reliability `json:"reliability"`
	}
	err := c.Sidecar.Invoke(ctx, c.AppID, http.MethodPost, "internal/juries", req, &out)
	if err == nil && out.PoolTooSmall {
		return nil, nil, app.ErrPoolTooSmall
	}
	return out.Jurors, out.Reliability, refusal(err)
}

func (c Client) CloseTask(ctx context.Context, caseID, jurorID, reason string) error {
	body := map[string]string{"case_id": caseID, "juror_id": jurorID, "reason": reason}
	return refusal(c.Sidecar.Invoke(ctx, c.AppID, http.MethodPost, "internal/tasks/close", body, nil))
}

// refusal marks the answers no retry can change as app.ErrRefused: a 4xx
// but 401 and 403 (the tokens between app and sidecar, which operators
// fix), 408 and 429. Everything else (5xx, an unreachable sidecar or app)
// is transient.
func refusal(err error) error {
	if daprx.Refused(err) {
		return fmt.Errorf("%w: %w", app.ErrRefused, err)
	}
	return err
}
