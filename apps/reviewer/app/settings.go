package app

import (
	"time"

	"github.com/govern/kit/liveconfig"
	"github.com/govern/reviewer/domain"
)

// Keys of the operator settings in the settings table and the configuration
// store.
const (
	KeyPoolRule   = "pool-rule"
	KeyFatigue    = "fatigue"
	KeyAdjustment = "adjustment"
)

// Setting is a stored setting: its JSON value and version.
type Setting struct {
	Key     string
	Value   []byte
	Version int64
}

// PoolRuleJSON is the wire form of the pool rule (API and settings table).
type PoolRuleJSON struct {
	RequiredTags []string `json:"required_tags"`
	ActiveWithin string   `json:"active_within"`
}

// FatigueJSON is the wire form of the fatigue limits. Pointers tell a missing
// field from a zero.
type FatigueJSON struct {
	MaxPerDay *int   `json:"max_per_day"`
	MaxOpen   *int   `json:"max_open"`
	Cooldown  string `json:"cooldown"`
}

// AdjustmentJSON is the wire form of the adjustment rule.
type AdjustmentJSON struct {
	Interval         string   `json:"interval"`
	Window           *int     `json:"window"`
	MinTasks         *int     `json:"min_tasks"`
	MaxTimeoutRatio  *float64 `json:"max_timeout_ratio"`
	MinAgreementRate *float64 `json:"min_agreement_rate"`
	Suspension       string   `json:"suspension"`
}

// PoolRuleToJSON writes r in its wire form.
func PoolRuleToJSON(r domain.PoolRule) PoolRuleJSON {
	tags := r.RequiredTags
	if tags == nil {
		tags = []string{}
	}
	return PoolRuleJSON{RequiredTags: tags, ActiveWithin: domain.FormatDuration(r.ActiveWithin)}
}

// FatigueToJSON writes f in its wire form.
func FatigueToJSON(f domain.Fatigue) FatigueJSON {
	return FatigueJSON{MaxPerDay: &f.MaxPerDay, MaxOpen: &f.MaxOpen, Cooldown: durationOrZero(f.Cooldown)}
}

// AdjustmentToJSON writes r in its wire form.
func AdjustmentToJSON(r domain.AdjustmentRule) AdjustmentJSON {
	return AdjustmentJSON{Interval: domain.FormatDuration(r.Interval), Window: &r.Window, MinTasks: &r.MinTasks,
		MaxTimeoutRatio: &r.MaxTimeoutRatio, MinAgreementRate: &r.MinAgreementRate, Suspension: domain.FormatDuration(r.Suspension)}
}

func durationOrZero(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return domain.FormatDuration(d)
}

// ParsePoolRule validates a wire-form pool rule.
func ParsePoolRule(j PoolRuleJSON) (domain.PoolRule, error) {
	return domain.NewPoolRule(j.RequiredTags, j.ActiveWithin)
}

// ParseFatigue validates wire-form fatigue limits.
func ParseFatigue(j FatigueJSON) (domain.Fatigue, error) {
	if j.MaxPerDay == nil {
		return domain.Fatigue{}, &domain.ValidationError{Message: "max_per_day is required"}
	}
	if j.MaxOpen == nil {
		return domain.Fatigue{}, &domain.ValidationError{Message: "max_open is required"}
	}
	return domain.NewFatigue(*j.MaxPerDay, *j.MaxOpen, j.Cooldown)
}

// ParseAdjustment validates a wire-form adjustment rule.
func ParseAdjustment(j AdjustmentJSON) (domain.AdjustmentRule, error) {
	for name, missing := range map[string]bool{"window": j.Window == nil, "min_tasks": j.MinTasks == nil,
		"max_timeout_ratio": j.MaxTimeoutRatio == nil, "min_agreement_rate": j.MinAgreementRate == nil} {
		if missing {
			return domain.AdjustmentRule{}, &domain.ValidationError{Message: name + " is required"}
		}
	}
	return domain.NewAdjustmentRule(j.Interval, *j.Window, *j.MinTasks, *j.MaxTimeoutRatio, *j.MinAgreementRate, j.Suspension)
}

// Settings holds the operator settings in force on this replica. Changes
// arrive from this replica's own writes and from the configuration store's
// subscription; a change never replaces a newer version.
type Settings struct {
	live       *liveconfig.Settings
	poolRule   *liveconfig.Value[domain.PoolRule]
	fatigue    *liveconfig.Value[domain.Fatigue]
	adjustment *liveconfig.Value[domain.AdjustmentRule]
	gold       *liveconfig.Value[GoldSettings]
}

// NewSettings starts with the defaults.
func NewSettings() *Settings {
	live := liveconfig.New()
	return &Settings{
		live:       live,
		poolRule:   liveconfig.Add(live, KeyPoolRule, domain.DefaultPoolRule(), 0, liveconfig.JSON(ParsePoolRule)),
		fatigue:    liveconfig.Add(live, KeyFatigue, domain.DefaultFatigue(), 0, liveconfig.JSON(ParseFatigue)),
		adjustment: liveconfig.Add(live, KeyAdjustment, domain.DefaultAdjustmentRule(), 0, liveconfig.JSON(ParseAdjustment)),
		gold:       liveconfig.Add(live, KeyGold, DefaultGoldSettings(), 0, liveconfig.JSON(ParseGold)),
	}
}

// Live is the set of settings the configuration watcher keeps current.
func (s *Settings) Live() *liveconfig.Settings { return s.live }

// PoolRule is the rule in force.
func (s *Settings) PoolRule() domain.PoolRule { return s.poolRule.Get() }

// Fatigue is the limits in force.
func (s *Settings) Fatigue() domain.Fatigue { return s.fatigue.Get() }

// Adjustment is the adjustment rule in force.
func (s *Settings) Adjustment() domain.AdjustmentRule { return s.adjustment.Get() }

// Gold is the gold settings in force.
func (s *Settings) Gold() GoldSettings { return s.gold.Get() }

// Apply installs st unless it is invalid, of an unknown key, or a newer
// version of its key is installed.
func (s *Settings) Apply(st Setting) bool {
	applied, err := s.live.Apply(st.Key, st.Value, st.Version)
	return applied && err == nil
}
