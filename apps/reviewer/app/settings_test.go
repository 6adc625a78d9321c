package app

import (
	"testing"
	"time"
)

func TestSettingsNeverGoBackToAnOlderVersion(t *testing.T) {
	t.Parallel()
	s := NewSettings()
	if !s.ApplySetting(KeyFatigue, []byte(`{"max_per_day":5,"max_open":2,"cooldown":"1m"}`), "2") {
		t.Fatal("version 2 not applied")
	}
	if s.ApplySetting(KeyFatigue, []byte(`{"max_per_day":9,"max_open":9,"cooldown":"0s"}`), "1") {
		t.Fatal("older version applied")
	}
	if f := s.Fatigue(); f.MaxPerDay != 5 || f.MaxOpen != 2 || f.Cooldown != time.Minute {
		t.Fatalf("fatigue = %+v", f)
	}
}

func TestInvalidSettingsAreIgnored(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, key, value, version string }{
		{"unknown key", "colour", `{}`, "1"},
		{"version not a number", KeyPoolRule, `{"required_tags":[],"active_within":"1h"}`, "x"},
		{"pool rule under a second", KeyPoolRule, `{"required_tags":[],"active_within":"1ms"}`, "1"},
		{"fatigue without max_open", KeyFatigue, `{"max_per_day":5,"cooldown":"0s"}`, "1"},
		{"adjustment that is not an object", KeyAdjustment, `[]`, "1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewSettings()
			if s.ApplySetting(tc.key, []byte(tc.value), tc.version) {
				t.Fatal("applied")
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
