package app

import (
	"context"
	"fmt"

	"github.com/govern/report/domain"
)

// Reporter is a reporter's record: what they filed, how their cases ended
// and the credibility that gives them (a reporter who never filed stands at
// the prior).
func (s *Service) Reporter(ctx context.Context, reporterID string) (domain.ReporterRecord, error) {
	filed, upheld, rejected, err := s.Repo.ReporterCounts(ctx, reporterID)
	if err != nil {
		return domain.ReporterRecord{}, fmt.Errorf("reporter %s: %w", reporterID, err)
	}
	return domain.NewReporterRecord(reporterID, filed, upheld, rejected), nil
}
