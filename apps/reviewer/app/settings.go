package app

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/govern/reviewer/domain"
)

// Keys of the operator settings in the settings table and the configuration
// store.
const (
	KeyPoolRule   = "pool-rule"
	KeyFatigue    = "fatigue"
	KeyAdjustment = "adjustment"
)

// SettingKeys lists every live setting.
var SettingKeys = []string{KeyPoolRule, KeyFatigue, KeyAdjustment}

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
	mu         sync.RWMutex
	poolRule   domain.PoolRule
	fatigue    domain.Fatigue
	adjustment domain.AdjustmentRule
	versions   map[string]int64
}

// NewSettings starts with the defaults.
func NewSettings() *Settings {
	return &Settings{poolRule: domain.DefaultPoolRule(), fatigue: domain.DefaultFatigue(),
		adjustment: domain.DefaultAdjustmentRule(), versions: map[string]int64{}}
}

// PoolRule is the rule in force.
func (s *Settings) PoolRule() domain.PoolRule {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.poolRule
}

// Fatigue is the limits in force.
func (s *Settings) Fatigue() domain.Fatigue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fatigue
}

// Adjustment is the adjustment rule in force.
func (s *Settings) Adjustment() domain.AdjustmentRule {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.adjustment
}

// ApplySetting installs a setting received from the configuration store;
// it ignores unknown keys, bad versions and invalid values.
func (s *Settings) ApplySetting(key string, value []byte, version string) bool {
	v, err := strconv.ParseInt(version, 10, 64)
	if err != nil {
		return false
	}
	return s.Apply(Setting{Key: key, Value: value, Version: v})
}

// Apply installs st unless a newer version of its key is installed.
func (s *Settings) Apply(st Setting) bool {
	install, ok := s.decode(st)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Version <= s.versions[st.Key] {
		return false
	}
	install()
	s.versions[st.Key] = st.Version
	return true
}

// decode validates st and returns how to install it (called under the lock).
func (s *Settings) decode(st Setting) (func(), bool) {
	switch st.Key {
	case KeyPoolRule:
		var j PoolRuleJSON
		r, err := decodeWith(st.Value, &j, func() (domain.PoolRule, error) { return ParsePoolRule(j) })
		return func() { s.poolRule = r }, err == nil
	case KeyFatigue:
		var j FatigueJSON
		f, err := decodeWith(st.Value, &j, func() (domain.Fatigue, error) { return ParseFatigue(j) })
		return func() { s.fatigue = f }, err == nil
	case KeyAdjustment:
		var j AdjustmentJSON
		a, err := decodeWith(st.Value, &j, func() (domain.AdjustmentRule, error) { return ParseAdjustment(j) })
		return func() { s.adjustment = a }, err == nil
	}
	return nil, false
}

func decodeWith[T any](data []byte, into any, parse func() (T, error)) (T, error) {
	var zero T
	if err := json.Unmarshal(data, into); err != nil {
		return zero, err
	}
	return parse()
}
