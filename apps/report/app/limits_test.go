package app

import (
	"errors"
	"testing"

	"github.com/govern/report/domain"
)

func TestIntakeLimitsAreValidatedAndNeverGoBack(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`{}`, `{"daily_report_cap":-1}`, `{"daily_report_cap":100001}`, `{"daily_report_cap":"5"}`, `[]`} {
		c := NewPolicyCache()
		if ok, err := c.Live().Apply(KeyIntakeLimits, []byte(raw), 1); ok || err == nil {
			t.Fatalf("%s accepted (%v)", raw, err)
		}
		if c.DailyReportCap() != domain.DefaultDailyReportCap {
			t.Fatalf("%s changed the cap to %d", raw, c.DailyReportCap())
		}
	}
	if _, err := parseIntakeLimits(IntakeLimits{}); !errors.Is(err, ErrInvalidLimits) {
		t.Fatalf("missing cap: %v", err)
	}
	c := NewPolicyCache()
	for _, step := range []struct {
		raw     string
		version int64
		applied bool
		want    int
	}{
		{`{"daily_report_cap":3}`, 2, true, 3},
		{`{"daily_report_cap":7}`, 1, false, 3},
		{`{"daily_report_cap":0}`, 3, true, 0},
		{`{"daily_report_cap":100000}`, 4, true, 100000},
	} {
		ok, err := c.Live().Apply(KeyIntakeLimits, []byte(step.raw), step.version)
		if err != nil || ok != step.applied || c.DailyReportCap() != step.want {
			t.Fatalf("%s v%d: applied %v err %v cap %d, want %v %d", step.raw, step.version, ok, err, c.DailyReportCap(), step.applied, step.want)
		}
	}
}
