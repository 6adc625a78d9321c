// Package domain holds the reward rules and the ledger vocabulary: how many
// points a juror earns for a vote, how the daily cap clips a credit, and what a
// case decision must contain before anyone is credited for it.
package domain

import (
	"errors"
	"fmt"
)

// MaxRuleValue bounds every rule so that a typo cannot mint unbounded points.
const MaxRuleValue = 1_000_000

// ErrInvalidRules is returned for rules outside their allowed ranges.
var ErrInvalidRules = errors.New("invalid reward rules")

// Rules decide how many points a juror earns for a vote.
type Rules struct {
	PointsPerVote int64 `json:"points_per_vote"` // earned by every juror who voted
	MajorityBonus int64 `json:"majority_bonus"`  // added when the vote matches the decision
	DailyCap      int64 `json:"daily_cap"`       // most points one user may earn from votes per UTC day
}

// DefaultRules are the rules of a fresh installation.
func DefaultRules() Rules {
	return Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: 1000}
}

// Validate checks every rule against its range.
func (r Rules) Validate() error {
	for _, f := range []struct {
		name     string
		value    int64
		minValue int64
	}{
		{"points_per_vote", r.PointsPerVote, 1},
		{"majority_bonus", r.MajorityBonus, 0},
		{"daily_cap", r.DailyCap, 0},
	} {
		if f.value < f.minValue || f.value > MaxRuleValue {
			return fmt.Errorf("%w: %s must be between %d and %d, got %d",
				ErrInvalidRules, f.name, f.minValue, MaxRuleValue, f.value)
		}
	}
	return nil
}

// VersionedRules is one stored revision of the rules; the highest version is
// the current one. A case is credited under the version in force when it was
// decided, and every credit records that version.
type VersionedRules struct {
	Rules
	Version int64
}
