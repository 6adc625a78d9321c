package app

import (
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

func TestSettingsNeverGoBackToAnOlderVersion(t *testing.T) {
	t.Parallel()
	s := NewSettings()
	if !s.Apply(Setting{Key: KeyFatigue, Value: []byte(`{"max_per_day":5,"max_open":2,"cooldown":"1m"}`), Version: 2}) {
		t.Fatal("version 2 not applied")
	}
	if ok, _ := s.Live().Apply(KeyFatigue, []byte(`{"max_per_day":9,"max_open":9,"cooldown":"0s"}`), 1); ok {
		t.Fatal("older version applied")
	}
	if s.Apply(Setting{Key: KeyFatigue, Value: []byte(`{"max_per_day":9,"max_open":9,"cooldown":"0s"}`), Version: 2}) {
		t.Fatal("same version applied twice")
	}
	if f := s.Fatigue(); f.MaxPerDay != 5 || f.MaxOpen != 2 || f.Cooldown != time.Minute {
		t.Fatalf("fatigue = %+v", f)
	}
}

func TestEachSettingHasItsOwnVersion(t *testing.T) {
	t.Parallel()
	s := NewSettings()
	if !s.Apply(Setting{Key: KeyPoolRule, Value: []byte(`{"required_tags":["verified"],"active_within":"1h"}`), Version: 7}) {
		t.Fatal("pool rule not applied")
	}
	if !s.Apply(Setting{Key: KeyAdjustment, Value: []byte(`{"interval":"2s","window":10,"min_tasks":3,` +
		`"max_timeout_ratio":0.4,"min_agreement_rate":0.3,"suspension":"1h"}`), Version: 1}) {
		t.Fatal("adjustment at version 1 refused after the pool rule's version 7")
	}
	if r := s.PoolRule(); r.ActiveWithin != time.Hour || len(r.RequiredTags) != 1 {
		t.Fatalf("pool rule = %+v", r)
	}
	if a := s.Adjustment(); a.Window != 10 || a.Interval != 2*time.Second {
		t.Fatalf("adjustment = %+v", a)
	}
}

func TestInvalidSettingsAreIgnored(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, key, value string }{
		{"unknown key", "colour", `{}`},
		{"pool rule under a second", KeyPoolRule, `{"required_tags":[],"active_within":"1ms"}`},
		{"fatigue without max_open", KeyFatigue, `{"max_per_day":5,"cooldown":"0s"}`},
		{"adjustment that is not an object", KeyAdjustment, `[]`},
		{"fatigue that is not JSON", KeyFatigue, `{"max_per_day":`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewSettings()
			if s.Apply(Setting{Key: tc.key, Value: []byte(tc.value), Version: 1}) {
				t.Fatal("applied")
			}
			if s.Fatigue() != domain.DefaultFatigue() || s.Adjustment() != domain.DefaultAdjustmentRule() ||
				s.PoolRule().ActiveWithin != domain.DefaultPoolRule().ActiveWithin {
				t.Fatal("a refused setting changed what is in force")
			}
		})
	}
}

func TestSettingsRoundTripThroughTheirWireForm(t *testing.T) {
	t.Parallel()
	s := NewSettings()
	f, err := ParseFatigue(FatigueToJSON(s.Fatigue()))
	if err != nil || f != s.Fatigue() {
		t.Fatalf("fatigue %+v, %v", f, err)
	}
	a, err := ParseAdjustment(AdjustmentToJSON(s.Adjustment()))
	if err != nil || a != s.Adjustment() {
		t.Fatalf("adjustment %+v, %v", a, err)
	}
	if FatigueToJSON(s.Fatigue()).Cooldown != "0s" {
		t.Fatal("a zero cooldown is written 0s")
	}
}

func TestSettingKeysAreTheWatchedKeys(t *testing.T) {
	t.Parallel()
	keys := NewSettings().Live().Keys()
	if len(keys) != 4 || keys[0] != KeyPoolRule || keys[1] != KeyFatigue || keys[2] != KeyAdjustment || keys[3] != KeyGold {
		t.Fatalf("keys %v", keys)
	}
}
