package main

// Property tests of the pure domain the simulator runs on. They live here,
// beside the simulator, so that the services' modules take no test-only
// dependency.

import (
	"math"
	"slices"
	"testing"
	"time"

	report "github.com/govern/report/domain"
	reviewer "github.com/govern/reviewer/domain"
	"pgregory.net/rapid"
)

func TestWilsonBracketsTheObservedRate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5000).Draw(t, "n")
		k := rapid.IntRange(0, n).Draw(t, "correct")
		lo, hi := reviewer.Wilson(k, n, reviewer.Z95)
		p := float64(k) / float64(n)
		if lo < 0 || hi > 1 || lo > p+1e-12 || hi < p-1e-12 {
			t.Fatalf("Wilson(%d, %d) = [%v, %v] does not bracket %v inside [0, 1]", k, n, lo, hi, p)
		}
		if k < n {
			lo2, hi2 := reviewer.Wilson(k+1, n, reviewer.Z95)
			if lo2 < lo || hi2 < hi {
				t.Fatalf("one more correct answer lowered the interval: [%v, %v] -> [%v, %v]", lo, hi, lo2, hi2)
			}
		}
	})
}

func TestAccuracyRuleNeverSuspendsForOneMistakePerSide(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		up := rapid.IntRange(1, 500).Draw(t, "uphold answers")
		rej := rapid.IntRange(1, 500).Draw(t, "reject answers")
		rec := reviewer.AccuracyRecord{Uphold: reviewer.Side{Answered: up, Correct: up - 1}, Reject: reviewer.Side{Answered: rej, Correct: rej - 1}}
		if suspend, reason := reviewer.DefaultAccuracyRule().Verdict(rec); suspend {
			t.Fatalf("%+v suspended: %s", rec, reason)
		}
	})
}

func reliability(t *rapid.T, label string) report.Reliability {
	return report.Reliability{
		Uphold: rapid.Float64Range(0.3, 0.99).Draw(t, label+" uphold"),
		Reject: rapid.Float64Range(0.3, 0.99).Draw(t, label+" reject"),
	}
}

func adaptiveState(t *rapid.T, a report.AdaptiveJury) report.AdaptiveState {
	var s report.AdaptiveState
	votes := rapid.IntRange(0, a.MaxJury).Draw(t, "votes")
	for i := range votes {
		s.Ballots = append(s.Ballots, report.Ballot{
			Vote:        rapid.SampledFrom([]string{report.VoteUphold, report.VoteReject}).Draw(t, "vote"),
			Reliability: reliability(t, "voter"+string(rune('a'+i%26))),
		})
	}
	open := rapid.IntRange(0, a.MaxJury-votes).Draw(t, "open")
	for range open {
		s.Open = append(s.Open, reliability(t, "open"))
	}
	s.Released = rapid.IntRange(0, 10).Draw(t, "released")
	return s
}

func TestSequentialTestNeverOverdrawsNorStalls(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		minJury := rapid.IntRange(1, 9).Draw(t, "min_jury")
		a := report.AdaptiveJury{
			MinJury:    minJury,
			MaxJury:    rapid.IntRange(minJury, 31).Draw(t, "max_jury"),
			Confidence: rapid.Float64Range(0.51, 0.999).Draw(t, "confidence"),
		}
		s := adaptiveState(t, a)
		subs := rapid.IntRange(0, 10).Draw(t, "max_substitutes")
		step := a.Next(s, subs, report.OnTimeoutUndecided)
		seated := len(s.Ballots) + len(s.Open)
		switch {
		case step.Draw < 0 || seated+step.Draw > a.MaxJury:
			t.Fatalf("draw %d with %d seated exceeds max_jury %d", step.Draw, seated, a.MaxJury)
		case seated+s.Released+step.Draw > a.MaxJury+subs && step.Draw > 0:
			t.Fatalf("draw %d exceeds the substitutes allowed", step.Draw)
		case step.Decision == "" && step.Draw == 0 && len(s.Open) == 0:
			t.Fatalf("round stalls: %+v", step)
		case step.Decision != "" && (step.Draw != 0):
			t.Fatalf("decided and drawing: %+v", step)
		case step.Confident && (len(s.Ballots) < a.MinJury || step.Confidence < a.Confidence-1e-9):
			t.Fatalf("confident with %d votes at %v: %+v", len(s.Ballots), step.Confidence, step)
		}
		if step.Decision == "" && step.Draw > 0 && seated+s.Released > 0 {
			// Enough: the drawn jurors and the open seats, all voting for
			// the leading side, would reach the confidence.
			side := report.VoteUphold
			if report.Evidence(s.Ballots) < 0 {
				side = report.VoteReject
			}
			if report.Evidence(s.Ballots) == 0 {
				return
			}
			all := slices.Clone(s.Ballots)
			for _, r := range s.Open {
				all = append(all, report.Ballot{Vote: side, Reliability: r})
			}
			for range step.Draw {
				all = append(all, report.Ballot{Vote: side, Reliability: report.NewJurorReliability})
			}
			if _, p := report.Leading(all); p < a.Confidence-1e-9 && len(all) >= a.MinJury {
				t.Fatalf("drawing %d could not reach %v (only %v)", step.Draw, a.Confidence, p)
			}
		}
	})
}

func TestEvidenceIsSymmetricBetweenTheSides(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 20).Draw(t, "n")
		var b, flipped []report.Ballot
		for range n {
			r := reliability(t, "r")
			v := rapid.SampledFrom([]string{report.VoteUphold, report.VoteReject}).Draw(t, "vote")
			w := report.VoteUphold
			if v == report.VoteUphold {
				w = report.VoteReject
			}
			b = append(b, report.Ballot{Vote: v, Reliability: r})
			flipped = append(flipped, report.Ballot{Vote: w, Reliability: report.Reliability{Uphold: r.Reject, Reject: r.Uphold}})
		}
		if l, f := report.Evidence(b), report.Evidence(flipped); math.Abs(l+f) > 1e-9 {
			t.Fatalf("evidence %v, flipped %v", l, f)
		}
	})
}

func TestPendingOrderIsSortedAndKeepsEveryCase(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 50).Draw(t, "n")
		t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		var cases []report.PendingCase
		for i := range n {
			cases = append(cases, report.PendingCase{
				CaseID:      string(rune('A' + i)),
				CreatedAt:   t0.Add(time.Duration(rapid.IntRange(0, 100).Draw(t, "age")) * time.Minute),
				Credibility: float64(rapid.IntRange(0, 20).Draw(t, "cred")) / 4,
			})
		}
		sorted := slices.Clone(cases)
		report.OrderPending(sorted)
		for i := 1; i < len(sorted); i++ {
			if sorted[i].Credibility > sorted[i-1].Credibility {
				t.Fatalf("%v before %v", sorted[i-1], sorted[i])
			}
		}
		ids := func(cs []report.PendingCase) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.CaseID)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(ids(cases), ids(sorted)) {
			t.Fatal("cases lost or duplicated")
		}
	})
}

func TestRetryAfterEndsAtTheNextUTCMidnight(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		now := time.Unix(rapid.Int64Range(0, 4_000_000_000).Draw(t, "unix"), rapid.Int64Range(0, 999_999_999).Draw(t, "nanos"))
		allowed, retry := report.CheckDailyCap(5, 5, now)
		midnight := report.UTCDay(now).Add(24 * time.Hour)
		if allowed || now.Add(retry).Before(midnight) || !now.Add(retry-time.Second).Before(midnight) {
			t.Fatalf("at %v retry after %v, midnight %v", now, retry, midnight)
		}
	})
}

func TestOnlyTheLosingSideMayAppeal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := report.AppealableCase{
			Status:      rapid.SampledFrom([]string{report.StatusUpheld, report.StatusRejected}).Draw(t, "status"),
			Round:       1,
			DecidedAt:   time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			OwnerID:     "owner",
			ReporterIDs: []string{"r1", "r2"},
		}
		caller := rapid.SampledFrom([]string{"owner", "r1", "r2", "stranger"}).Draw(t, "caller")
		err := c.MayAppeal(caller, c.DecidedAt.Add(time.Hour), report.DefaultAppealWindow)
		losing := c.Status == report.StatusUpheld && caller == "owner" || c.Status == report.StatusRejected && caller != "owner" && caller != "stranger"
		if losing != (err == nil) {
			t.Fatalf("%s appealing %s: %v", caller, c.Status, err)
		}
	})
}
