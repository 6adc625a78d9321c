package app

import (
	"context"
	"fmt"

	"github.com/govern/reviewer/domain"
)

// AccuracyOf is the one place a juror's AccuracyRecord is built: today from
// their agreement with decided cases (a vote on a case decided upheld or
// rejected counts on that side, right when it agreed). Jurors without a
// decided vote get the zero record.
func (s *Service) AccuracyOf(ctx context.Context, jurors []string) (map[string]domain.AccuracyRecord, error) {
	out := make(map[string]domain.AccuracyRecord, len(jurors))
	if len(jurors) == 0 {
		return out, nil
	}
	agreement, err := s.repo.Agreement(ctx, jurors)
	if err != nil {
		return nil, fmt.Errorf("agreement records: %w", err)
	}
	for _, j := range jurors {
		out[j] = agreement[j]
	}
	return out, nil
}

// Reliabilities estimates each juror's reliability from their record under
// the Beta prior (domain.DefaultAccuracyPrior): what a draw returns to the
// report service, whose adaptive rounds weigh each vote by it.
func (s *Service) Reliabilities(ctx context.Context, jurors []string) (map[string]domain.Reliability, error) {
	recs, err := s.AccuracyOf(ctx, jurors)
	if err != nil {
		return nil, err
	}
	prior := domain.DefaultAccuracyPrior()
	out := make(map[string]domain.Reliability, len(recs))
	for j, rec := range recs {
		out[j] = prior.Reliability(rec)
	}
	return out, nil
}
