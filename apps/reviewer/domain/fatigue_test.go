package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

func TestFatigueValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		perDay, open int
		cooldown     string
		ok           bool
	}{
		{"the contract's default", 100, 10, "0s", true},
		{"a cooldown of one second", 1, 1, "1s", true},
		{"a cooldown in hours", 5, 2, "2h", true},
		{"zero per day", 0, 10, "0s", false},
		{"negative open", 10, -1, "0s", false},
		{"too many per day", domain.MaxFatigueCount + 1, 10, "0s", false},
		{"missing cooldown", 10, 10, "", false},
		{"cooldown not a duration", 10, 10, "soon", false},
		{"cooldown under a second", 10, 10, "500ms", false},
		{"negative cooldown", 10, 10, "-1s", false},
		{"cooldown over 30 days", 10, 10, "721h", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewFatigue(tc.perDay, tc.open, tc.cooldown)
			if tc.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tc.ok && !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("err = %v, want invalid argument", err)
			}
		})
	}
}

func TestFatigueLimitsBiteBeforeTheTaskIsGiven(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	f := domain.Fatigue{MaxPerDay: 3, MaxOpen: 2, Cooldown: time.Hour}
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	cases := []struct {
		name string
		w    domain.Workload
		want bool
	}{
		{"a fresh juror", domain.Workload{}, true},
		{"one open task below max_open", domain.Workload{Open: 1, DrawnLastDay: 1}, true},
		{"max_open reached", domain.Workload{Open: 2, DrawnLastDay: 2}, false},
		{"max_per_day reached with nothing open", domain.Workload{DrawnLastDay: 3}, false},
		{"within the cooldown", domain.Workload{DrawnLastDay: 1, LastClosedAt: at(59 * time.Minute)}, false},
		{"cooldown just over", domain.Workload{DrawnLastDay: 1, LastClosedAt: at(time.Hour)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := f.Allows(tc.w, now); got != tc.want {
				t.Fatalf("Allows(%+v) = %v, want %v", tc.w, got, tc.want)
			}
		})
	}
}
