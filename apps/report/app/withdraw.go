package app

import (
	"context"
	"fmt"

	"github.com/govern/report/domain"
)

// Withdraw ends an open case's round as withdrawn: the compensation of the
// round's saga. In one transaction the case closes, every open seat is
// released and the close of its task, the round's end and the notices are
// enqueued (kit/outbox); no case-decided is published, so no reward is paid.
func (s *Service) Withdraw(ctx context.Context, caseID, by string, w domain.Withdrawal) (CaseView, error) {
	if err := w.Validate(); err != nil {
		return CaseView{}, err
	}
	v, err := s.Repo.WithdrawCase(ctx, caseID, by, w, s.Now().UTC())
	if err != nil {
		return CaseView{}, fmt.Errorf("withdraw case %s: %w", caseID, err)
	}
	s.Effects.Wake()
	s.Log.Info("case withdrawn", "case_id", caseID, "withdrawn_by", by)
	return v, nil
}
