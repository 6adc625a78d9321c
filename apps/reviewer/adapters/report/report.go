// Package report calls the report service through Dapr service invocation.
package report

import (
	"context"
	"fmt"
	"net/http"

	"github.com/govern/kit/daprx"
	"github.com/govern/reviewer/app"
)

// Client implements app.GoldSeats.
type Client struct {
	Sidecar *daprx.Client
	AppID   string
}

var _ app.GoldSeats = Client{}

// SeatGold seats a juror on a gold case. A 4xx but 401, 403, 408 and 429
// is an answer no retry can change (the report service's contract for
// its internal routes): app.ErrSeatRefused.
func (c Client) SeatGold(ctx context.Context, seat app.GoldSeat) error {
	err := c.Sidecar.Invoke(ctx, c.AppID, http.MethodPost, "internal/gold-seats", seat, nil)
	if daprx.Refused(err) {
		return fmt.Errorf("%w: %w", app.ErrSeatRefused, err)
	}
	return err
}
