package reviewer

import (
	"context"
	"net/http"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/app"
)

// GoldClient implements app.GoldPeers: the reviewer service learns of gold
// cases and of the votes on them, the reward service credits those votes.
type GoldClient struct {
	Sidecar       *daprx.Client
	ReviewerAppID string
	RewardAppID   string
}

var _ app.GoldPeers = GoldClient{}

func (c GoldClient) GoldCase(ctx context.Context, n app.GoldNotice) error {
	return refusal(c.Sidecar.Invoke(ctx, c.ReviewerAppID, http.MethodPost, "internal/gold-cases", n, nil))
}

func (c GoldClient) GoldVote(ctx context.Context, v app.GoldVote) error {
	return refusal(c.Sidecar.Invoke(ctx, c.ReviewerAppID, http.MethodPost, "internal/gold-votes", v, nil))
}

func (c GoldClient) GoldCredit(ctx context.Context, cr app.GoldCredit) error {
	return refusal(c.Sidecar.Invoke(ctx, c.RewardAppID, http.MethodPost, "internal/gold-credits", cr, nil))
}
