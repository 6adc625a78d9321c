package app

import (
	"testing"

	"github.com/govern/reviewer/domain"
)

func ptr[T any](v T) *T { return &v }

func TestGoldSettingsAreValidatedAndRoundTrip(t *testing.T) {
	t.Parallel()
	g, err := ParseGold(GoldToJSON(DefaultGoldSettings()))
	if err != nil || g != DefaultGoldSettings() {
		t.Fatalf("defaults %+v, %v", g, err)
	}
	if g.Rate != domain.DefaultGoldRate || g.Rule != domain.DefaultAccuracyRule() {
		t.Fatalf("defaults %+v", g)
	}
	for name, j := range map[string]GoldJSON{
		"no rate":           {MinGold: ptr(5), MinGoldAccuracy: ptr(0.02)},
		"no min_gold":       {GoldRate: ptr(0.1), MinGoldAccuracy: ptr(0.02)},
		"no accuracy":       {GoldRate: ptr(0.1), MinGold: ptr(5)},
		"rate above max":    {GoldRate: ptr(0.9), MinGold: ptr(5), MinGoldAccuracy: ptr(0.02)},
		"negative rate":     {GoldRate: ptr(-0.1), MinGold: ptr(5), MinGoldAccuracy: ptr(0.02)},
		"one answer judges": {GoldRate: ptr(0.1), MinGold: ptr(1), MinGoldAccuracy: ptr(0.02)},
		"accuracy too high": {GoldRate: ptr(0.1), MinGold: ptr(5), MinGoldAccuracy: ptr(0.5)},
	} {
		if _, err := ParseGold(j); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	g, err = ParseGold(GoldJSON{GoldRate: ptr(0.5), MinGold: ptr(3), MinGoldAccuracy: ptr(0.1)})
	if err != nil || g.Rate != 0.5 || g.Rule.MinGold != 3 || g.Rule.MinGoldAccuracy != 0.1 {
		t.Fatalf("valid settings: %+v, %v", g, err)
	}
}

func TestJudgedAccuracyCountsGoldAndAgreementTogether(t *testing.T) {
	t.Parallel()
	a := JurorAccuracy{
		Gold:      domain.AccuracyRecord{Reject: domain.Side{Answered: 3, Correct: 0}},
		Agreement: domain.AccuracyRecord{Uphold: domain.Side{Answered: 2, Correct: 2}},
	}
	j := a.Judged()
	if j.Uphold != (domain.Side{Answered: 2, Correct: 2}) || j.Reject != (domain.Side{Answered: 3, Correct: 0}) {
		t.Fatalf("judged %+v", j)
	}
	// The lazy juror of the e2e test: always uphold, three gold cases whose
	// answer was reject, two decided cases upheld. min_gold 3 suspends them;
	// after one wrong gold answer nobody is suspended.
	rule, _ := domain.NewAccuracyRule(3, 0.02)
	if suspend, _ := rule.Verdict(j); !suspend {
		t.Fatal("lazy juror not suspended")
	}
	one := JurorAccuracy{Gold: domain.AccuracyRecord{Reject: domain.Side{Answered: 1}}, Agreement: a.Agreement}
	if suspend, _ := rule.Verdict(one.Judged()); suspend {
		t.Fatal("suspended on one mistake")
	}
}
