package app

import (
	"context"
	"fmt"

	"github.com/govern/report/domain"
)

// Resolve is the staff queue: an operator decides an escalated or undecided
// case. The case keeps its jury's tally; case-decided is published again
// (through the outbox) with decided_by "staff", so the marketplace acts on
// it, while jurors keep what their own round earned them.
func (s *Service) Resolve(ctx context.Context, caseID, staffID string, r domain.Resolution) (CaseView, error) {
	if err := r.Validate(); err != nil {
		return CaseView{}, err
	}
	v, err := s.Repo.ResolveCase(ctx, caseID, staffID, r, s.Now().UTC())
	if err != nil {
		return CaseView{}, fmt.Errorf("resolve case %s: %w", caseID, err)
	}
	s.Effects.Wake()
	s.Log.Info("case resolved by staff", "case_id", caseID, "resolved_by", staffID, "decision", v.Status)
	return v, nil
}
