package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

func TestUnreliableJurorsAreSuspendedOnlyAfterEnoughTasks(t *testing.T) {
	t.Parallel()
	rule := domain.AdjustmentRule{Window: 10, MinTasks: 4, MaxTimeoutRatio: 0.5, MinAgreementRate: 0.5}
	cases := []struct {
		name string
		rec  domain.RecentRecord
		want bool
	}{
		{"too few tasks to judge", domain.RecentRecord{Settled: 3, TimedOut: 3}, false},
		{"timed out on most recent tasks", domain.RecentRecord{Settled: 4, TimedOut: 3}, true},
		{"timed out on exactly half", domain.RecentRecord{Settled: 4, TimedOut: 2, DecisiveVotes: 2, Agreed: 2}, false},
		{"agrees too rarely", domain.RecentRecord{Settled: 5, DecisiveVotes: 5, Agreed: 2}, true},
		{"agrees at the threshold", domain.RecentRecord{Settled: 4, DecisiveVotes: 4, Agreed: 2}, false},
		{"too few decisive votes to judge agreement", domain.RecentRecord{Settled: 6, DecisiveVotes: 3, Agreed: 0}, false},
		{"reliable juror", domain.RecentRecord{Settled: 10, TimedOut: 1, DecisiveVotes: 9, Agreed: 8}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, reason := rule.Verdict(tc.rec)
			if got != tc.want {
				t.Fatalf("suspend = %v (%q), want %v", got, reason, tc.want)
			}
			if got && reason == "" {
				t.Fatal("a suspension needs a reason")
			}
		})
	}
}

func TestAdjustmentRuleValidation(t *testing.T) {
	t.Parallel()
	type in struct {
		interval             string
		window, minTasks     int
		maxTimeout, minAgree float64
		suspension           string
	}
	cases := []struct {
		name string
		in   in
		ok   bool
	}{
		{"a sensible rule", in{"1m", 20, 5, 0.5, 0.2, "168h"}, true},
		{"everything at its smallest", in{"1s", 1, 1, 0, 0, "1s"}, true},
		{"interval under a second", in{"100ms", 20, 5, 0.5, 0.2, "1h"}, false},
		{"interval missing", in{"", 20, 5, 0.5, 0.2, "1h"}, false},
		{"suspension not a duration", in{"1m", 20, 5, 0.5, 0.2, "a week"}, false},
		{"window zero", in{"1m", 0, 0, 0.5, 0.2, "1h"}, false},
		{"min_tasks above window", in{"1m", 5, 6, 0.5, 0.2, "1h"}, false},
		{"ratio above one", in{"1m", 5, 5, 1.5, 0.2, "1h"}, false},
		{"negative agreement", in{"1m", 5, 5, 0.5, -0.1, "1h"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewAdjustmentRule(tc.in.interval, tc.in.window, tc.in.minTasks, tc.in.maxTimeout, tc.in.minAgree, tc.in.suspension)
			if tc.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tc.ok && !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("err = %v, want invalid argument", err)
			}
		})
	}
}

func TestDecisionSettlesEveryTask(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		decision string
		vote     string
		task     domain.OpenTask
		want     domain.TaskOutcome
	}{
		{"uphold agrees with upheld", "upheld", "uphold", domain.OpenTask{JurorID: "j", CloseReason: domain.ClosedVoted},
			domain.TaskOutcome{JurorID: "j", Vote: "uphold", Agreed: true, CloseReason: domain.ClosedVoted}},
		{"reject agrees with rejected", "rejected", "reject", domain.OpenTask{JurorID: "j", CloseReason: domain.ClosedVoted},
			domain.TaskOutcome{JurorID: "j", Vote: "reject", Agreed: true, CloseReason: domain.ClosedVoted}},
		{"uphold disagrees with rejected", "rejected", "uphold", domain.OpenTask{JurorID: "j", CloseReason: domain.ClosedVoted},
			domain.TaskOutcome{JurorID: "j", Vote: "uphold", CloseReason: domain.ClosedVoted}},
		{"undecided agrees with nobody", "undecided", "uphold", domain.OpenTask{JurorID: "j", CloseReason: domain.ClosedVoted},
			domain.TaskOutcome{JurorID: "j", Vote: "uphold", CloseReason: domain.ClosedVoted}},
		{"escalated agrees with nobody", "escalated", "reject", domain.OpenTask{JurorID: "j", CloseReason: domain.ClosedVoted},
			domain.TaskOutcome{JurorID: "j", Vote: "reject", CloseReason: domain.ClosedVoted}},
		{"a vote whose close never arrived counts now", "upheld", "uphold", domain.OpenTask{JurorID: "j", Open: true},
			domain.TaskOutcome{JurorID: "j", Vote: "uphold", Agreed: true, CloseReason: domain.ClosedVoted, NewlyVoted: true, NewlyClosed: true}},
		{"a silent juror's open task closes as decided", "upheld", "", domain.OpenTask{JurorID: "j", Open: true},
			domain.TaskOutcome{JurorID: "j", CloseReason: domain.ClosedDecided, NewlyClosed: true}},
		{"a released juror stays released", "upheld", "", domain.OpenTask{JurorID: "j", CloseReason: domain.ClosedReleased},
			domain.TaskOutcome{JurorID: "j", CloseReason: domain.ClosedReleased}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			votes := map[string]string{}
			if tc.vote != "" {
				votes["j"] = tc.vote
			}
			r, err := domain.NewCaseResult("c", tc.decision, time.Time{}, votes)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Settle([]domain.OpenTask{tc.task})
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("outcome = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCaseResultValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, caseID, decision string
		votes                  map[string]string
	}{
		{"missing case id", "", "upheld", nil},
		{"unknown decision", "c", "maybe", nil},
		{"vote neither uphold nor reject", "c", "upheld", map[string]string{"j": "abstain"}},
		{"vote of an empty juror id", "c", "upheld", map[string]string{"": "uphold"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := domain.NewCaseResult(tc.caseID, tc.decision, time.Time{}, tc.votes); !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("err = %v, want invalid argument", err)
			}
		})
	}
}
