package app_test

import (
	"errors"
	"testing"

	"github.com/govern/kit/liveconfig"
	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

// Whatever the configuration store posts, the rules in force stay valid: a
// stored value is installed only when it is valid rules of a newer version.
func FuzzRulesSetting(f *testing.F) {
	for _, s := range []string{`{"points_per_vote":12,"majority_bonus":3,"daily_cap":900}`, `{"points_per_vote":0,"majority_bonus":3,"daily_cap":900}`,
		`{"points_per_vote":1e400}`, `{"points_per_vote":1000001,"majority_bonus":0,"daily_cap":0}`, `null`, `[]`, ``} {
		f.Add([]byte(s), int64(2))
	}
	f.Fuzz(func(t *testing.T, raw []byte, version int64) {
		c := app.NewRulesCache()
		applied, err := c.Live().Apply(app.RulesSettingKey, raw, version)
		got := c.Get()
		switch {
		case err != nil:
			if !errors.Is(err, liveconfig.ErrInvalidValue) || applied || got.Rules != domain.DefaultRules() || got.Version != 1 {
				t.Fatalf("refused with %v, yet applied=%v, rules %+v", err, applied, got)
			}
		case applied:
			if got.Validate() != nil || got.Version != version || version <= 1 {
				t.Fatalf("installed %+v from version %d", got, version)
			}
		default:
			if version > 1 || got.Rules != domain.DefaultRules() {
				t.Fatalf("valid newer rules not installed: version %d, rules %+v", version, got)
			}
		}
	})
}
