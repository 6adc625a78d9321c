package app_test

import (
	"errors"
	"testing"

	"github.com/govern/kit/liveconfig"
	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

func TestRulesCacheStartsWithTheSeededVersion(t *testing.T) {
	t.Parallel()
	c := app.NewRulesCache()
	if got := c.Get(); got.Rules != domain.DefaultRules() || got.Version != 1 {
		t.Fatalf("Get() = %+v", got)
	}
	if keys := c.Live().Keys(); len(keys) != 1 || keys[0] != app.RulesSettingKey {
		t.Fatalf("keys %v", keys)
	}
}

func TestOlderRulesNeverReplaceNewerOnes(t *testing.T) {
	t.Parallel()
	c := app.NewRulesCache()
	newer := domain.VersionedRules{Rules: domain.Rules{PointsPerVote: 20, MajorityBonus: 1, DailyCap: 50}, Version: 3}
	if !c.Apply(newer) {
		t.Fatal("version 3 refused")
	}
	if c.Apply(domain.VersionedRules{Rules: domain.DefaultRules(), Version: 2}) || c.Apply(domain.VersionedRules{Rules: domain.DefaultRules(), Version: 3}) {
		t.Fatal("an older or equal version replaced version 3")
	}
	if ok, err := c.Live().Apply(app.RulesSettingKey, []byte(`{"points_per_vote":1,"majority_bonus":0,"daily_cap":0}`), 2); ok || err != nil {
		t.Fatalf("older version from the store: %v %v", ok, err)
	}
	if c.Get() != newer {
		t.Fatalf("Get() = %+v", c.Get())
	}
}

func TestRulesFromTheStoreAreValidatedFirst(t *testing.T) {
	t.Parallel()
	c := app.NewRulesCache()
	for _, raw := range []string{`{"points_per_vote":0,"majority_bonus":0,"daily_cap":0}`, `{"points_per_vote":"ten"}`, `[]`} {
		if ok, err := c.Live().Apply(app.RulesSettingKey, []byte(raw), 9); ok || !errors.Is(err, liveconfig.ErrInvalidValue) {
			t.Fatalf("%s: %v %v", raw, ok, err)
		}
	}
	if ok, err := c.Live().Apply(app.RulesSettingKey, []byte(`{"points_per_vote":7,"majority_bonus":2,"daily_cap":70}`), 9); !ok || err != nil {
		t.Fatalf("valid rules refused: %v", err)
	}
	if got := c.Get(); got.PointsPerVote != 7 || got.Version != 9 {
		t.Fatalf("Get() = %+v", got)
	}
}
