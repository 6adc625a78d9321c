package domain_test

import (
	"errors"
	"testing"

	"github.com/govern/reward/domain"
)

func TestDefaultRulesAreTheContractDefaults(t *testing.T) {
	t.Parallel()
	want := domain.Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: 1000}
	if got := domain.DefaultRules(); got != want {
		t.Fatalf("DefaultRules() = %+v, want %+v", got, want)
	}
	if err := domain.DefaultRules().Validate(); err != nil {
		t.Fatalf("default rules are invalid: %v", err)
	}
}

func TestRulesOutsideTheirRangesAreRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules domain.Rules
		valid bool
	}{
		{"smallest allowed", domain.Rules{PointsPerVote: 1, MajorityBonus: 0, DailyCap: 0}, true},
		{"largest allowed", domain.Rules{PointsPerVote: 1_000_000, MajorityBonus: 1_000_000, DailyCap: 1_000_000}, true},
		{"zero points per vote", domain.Rules{PointsPerVote: 0, MajorityBonus: 5, DailyCap: 1000}, false},
		{"negative bonus", domain.Rules{PointsPerVote: 10, MajorityBonus: -1, DailyCap: 1000}, false},
		{"negative cap", domain.Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: -1}, false},
		{"points per vote too large", domain.Rules{PointsPerVote: 1_000_001, MajorityBonus: 5, DailyCap: 1000}, false},
		{"bonus too large", domain.Rules{PointsPerVote: 10, MajorityBonus: 1_000_001, DailyCap: 1000}, false},
		{"cap too large", domain.Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: 1_000_001}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.rules.Validate()
			if tt.valid && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.valid && !errors.Is(err, domain.ErrInvalidRules) {
				t.Fatalf("Validate() = %v, want ErrInvalidRules", err)
			}
		})
	}
}
