package app

import (
	"context"

	"github.com/govern/reviewer/domain"
)

// Reliabilities estimates each juror's reliability from their measured
// accuracy (AccuracyOf: gold answers and agreement with decided cases,
// together) under the Beta prior (domain.DefaultAccuracyPrior): what a draw
// returns to the report service, whose adaptive rounds weigh each vote by
// it. A juror with no record gets the prior's estimate.
func (s *Service) Reliabilities(ctx context.Context, jurors []string) (map[string]domain.Reliability, error) {
	out := make(map[string]domain.Reliability, len(jurors))
	if len(jurors) == 0 {
		return out, nil
	}
	recs, err := s.AccuracyOf(ctx, jurors...)
	if err != nil {
		return nil, err
	}
	prior := domain.DefaultAccuracyPrior()
	for _, j := range jurors {
		out[j] = prior.Reliability(recs[j].Judged())
	}
	return out, nil
}
