package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/govern/kit/liveconfig"
	"github.com/govern/report/domain"
)

// KeyIntakeLimits is the configuration key of the intake limits.
const KeyIntakeLimits = "intake_limits"

// ErrInvalidLimits means intake limits an operator may not set.
var ErrInvalidLimits = errors.New("invalid intake limits")

// IntakeLimits is the wire form of the intake limits (GET and PUT
// /v1/intake-limits, and the stored setting).
type IntakeLimits struct {
	// DailyReportCap is how many reports one reporter may file per UTC day
	// on every channel together; 0 turns the cap off.
	DailyReportCap *int `json:"daily_report_cap"`
}

// parseIntakeLimits validates limits and returns the daily cap.
func parseIntakeLimits(l IntakeLimits) (int, error) {
	if l.DailyReportCap == nil {
		return 0, fmt.Errorf("%w: daily_report_cap is required", ErrInvalidLimits)
	}
	if n := *l.DailyReportCap; !domain.ValidDailyReportCap(n) {
		return 0, fmt.Errorf("%w: daily_report_cap must be between 0 and %d, got %d", ErrInvalidLimits, domain.MaxDailyReportCap, n)
	}
	return *l.DailyReportCap, nil
}

func addIntakeLimits(live *liveconfig.Settings) *liveconfig.Value[int] {
	return liveconfig.Add(live, KeyIntakeLimits, domain.DefaultDailyReportCap, 0, liveconfig.JSON(parseIntakeLimits))
}

// DailyReportCap is the current daily cap per reporter (0: none).
func (c *PolicyCache) DailyReportCap() int { return c.dailyCap.Get() }

// IntakeLimits returns the current intake limits.
func (s *Service) IntakeLimits() IntakeLimits {
	n := s.Policies.DailyReportCap()
	return IntakeLimits{DailyReportCap: &n}
}

// ChangeIntakeLimits validates and stores l; this replica applies it at once,
// the others through their sidecar's configuration subscription.
func (s *Service) ChangeIntakeLimits(ctx context.Context, l IntakeLimits) (IntakeLimits, error) {
	n, err := parseIntakeLimits(l)
	if err != nil {
		return IntakeLimits{}, err
	}
	value, err := json.Marshal(IntakeLimits{DailyReportCap: &n})
	if err != nil {
		return IntakeLimits{}, err
	}
	version, err := s.Repo.SaveSetting(ctx, KeyIntakeLimits, value)
	if err != nil {
		return IntakeLimits{}, fmt.Errorf("save %s: %w", KeyIntakeLimits, err)
	}
	s.Policies.dailyCap.Set(n, version)
	s.Log.InfoContext(ctx, "intake limits changed", "version", version, "daily_report_cap", n)
	return IntakeLimits{DailyReportCap: &n}, nil
}
