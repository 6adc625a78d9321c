package domain

import (
	"fmt"
	"time"
)

// Bounds of the adjustment rule.
const (
	MaxAdjustmentWindow = 1000
	MinAdjustmentPeriod = time.Second
)

// AdjustmentRule suspends unreliable jurors automatically. Every Interval it
// looks at each active juror's Window most recent settled tasks (released for
// a timeout, or in a decided case) drawn since the juror was last restored;
// with at least MinTasks of them, a juror is suspended for Suspension when
// more than MaxTimeoutRatio of them timed out, or when fewer than
// MinAgreementRate of their votes in decisive cases agreed with the decision
// (with at least MinTasks such votes).
type AdjustmentRule struct {
	Interval         time.Duration
	Window           int
	MinTasks         int
	MaxTimeoutRatio  float64
	MinAgreementRate float64
	Suspension       time.Duration
}

// DefaultAdjustmentRule applies until an operator sets one.
func DefaultAdjustmentRule() AdjustmentRule {
	return AdjustmentRule{
		Interval: time.Minute, Window: 20, MinTasks: 5,
		MaxTimeoutRatio: 0.5, MinAgreementRate: 0.2, Suspension: 7 * 24 * time.Hour,
	}
}

// NewAdjustmentRule validates an operator-supplied rule.
func NewAdjustmentRule(interval string, window, minTasks int, maxTimeoutRatio, minAgreementRate float64, suspension string) (AdjustmentRule, error) {
	iv, err := parseDuration("interval", interval)
	if err != nil {
		return AdjustmentRule{}, err
	}
	sp, err := parseDuration("suspension", suspension)
	if err != nil {
		return AdjustmentRule{}, err
	}
	switch {
	case iv < MinAdjustmentPeriod || iv > 24*time.Hour:
		return AdjustmentRule{}, invalid("interval must be between 1s and 24h")
	case sp < MinAdjustmentPeriod || sp > 365*24*time.Hour:
		return AdjustmentRule{}, invalid("suspension must be between 1s and 8760h")
	case window < 1 || window > MaxAdjustmentWindow:
		return AdjustmentRule{}, invalid("window must be between 1 and %d", MaxAdjustmentWindow)
	case minTasks < 1 || minTasks > window:
		return AdjustmentRule{}, invalid("min_tasks must be between 1 and window")
	case !(maxTimeoutRatio >= 0 && maxTimeoutRatio <= 1):
		return AdjustmentRule{}, invalid("max_timeout_ratio must be between 0 and 1")
	case !(minAgreementRate >= 0 && minAgreementRate <= 1):
		return AdjustmentRule{}, invalid("min_agreement_rate must be between 0 and 1")
	}
	return AdjustmentRule{Interval: iv, Window: window, MinTasks: minTasks,
		MaxTimeoutRatio: maxTimeoutRatio, MinAgreementRate: minAgreementRate, Suspension: sp}, nil
}

// RecentRecord summarises one juror's window of settled tasks.
type RecentRecord struct {
	JurorID       string
	Settled       int // tasks in the window
	TimedOut      int
	DecisiveVotes int // votes in upheld or rejected cases
	Agreed        int
}

// Verdict says whether to suspend a juror, and why.
func (r AdjustmentRule) Verdict(rec RecentRecord) (suspend bool, reason string) {
	if rec.Settled < r.MinTasks {
		return false, ""
	}
	if ratio := float64(rec.TimedOut) / float64(rec.Settled); ratio > r.MaxTimeoutRatio {
		return true, fmt.Sprintf("timed out on %d of the last %d tasks (more than %.0f%%)",
			rec.TimedOut, rec.Settled, r.MaxTimeoutRatio*100)
	}
	if rec.DecisiveVotes >= r.MinTasks {
		if rate := float64(rec.Agreed) / float64(rec.DecisiveVotes); rate < r.MinAgreementRate {
			return true, fmt.Sprintf("agreed with %d of the last %d decisions (less than %.0f%%)",
				rec.Agreed, rec.DecisiveVotes, r.MinAgreementRate*100)
		}
	}
	return false, ""
}
