package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/govern/kit/text"
	"github.com/govern/reviewer/domain"
)

var fuzzNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// refused checks that a refusal is the validation error ports map to 400.
func refused(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("refusal %v is not ErrInvalidArgument", err)
	}
}

func mustBeID(t *testing.T, what, field, v string) {
	t.Helper()
	if err := text.ID(field, v); err != nil {
		t.Fatalf("%s accepted: %v", what, err)
	}
}

func mustBeClean(t *testing.T, what string, vs ...string) {
	t.Helper()
	for _, v := range vs {
		if !text.Clean(v) {
			t.Fatalf("%s accepted %q, which PostgreSQL cannot store", what, v)
		}
	}
}

// Profiles, activity and state changes (PUT /v1/users/{id}/profile, the
// user-activity topic, PUT /v1/reviewers/{id}/state) accept only storable
// user ids, tags and reasons, and refuse everything else as invalid input.
func FuzzProfile(f *testing.F) {
	f.Add("alice", "verified", "", "paused", int64(0), false)
	f.Add("bob", "verified", "holiday", "suspended", int64(-3600e9), true)
	f.Fuzz(func(t *testing.T, userID, tag, reason, state string, offset int64, byOps bool) {
		at := fuzzNow.Add(time.Duration(offset))
		tags := []string{tag, tag}
		if p, err := domain.NewProfile(userID, tags, at, fuzzNow); err != nil {
			refused(t, err)
		} else {
			mustBeID(t, "profile", "user_id", p.UserID)
			mustBeClean(t, "profile tag", p.Tags...)
			if len(p.Tags) != 1 || p.Tags[0] != tag || at.After(fuzzNow.Add(domain.MaxClockSkew)) {
				t.Fatalf("profile %+v from tags %q at %s", p, tags, at)
			}
			if err := text.Label("tag", tag, text.MaxTagLen); err != nil {
				t.Fatalf("profile tag accepted: %v", err)
			}
		}
		if err := domain.ValidateActivity(userID, at, fuzzNow); err != nil {
			refused(t, err)
		} else {
			mustBeID(t, "activity", "user_id", userID)
		}
		to, err := domain.ParseStoredState(state)
		if err != nil {
			refused(t, err)
			return
		}
		c := domain.StateChange{UserID: userID, To: to, Reason: reason, Actor: userID, ByOps: byOps}
		if err := c.Validate(); err != nil {
			refused(t, err)
			return
		}
		mustBeID(t, "state change", "user_id", userID)
		mustBeClean(t, "state change reason", reason)
		if !byOps && to != domain.JurorActive && to != domain.JurorPaused {
			t.Fatalf("a user set their own state to %s", to)
		}
	})
}

// A draw request (POST /internal/juries) that is accepted holds only
// storable ids and text; everything else is refused as invalid input.
func FuzzDrawRequest(f *testing.F) {
	f.Add("case-1/jury", "case-1", 5, "reporter", "post", "t-1", "owner", "spam", int64(3600e9))
	f.Add("d", "c", 0, "", "video", "", "", "", int64(0))
	f.Fuzz(func(t *testing.T, drawID, caseID string, size int, exclude, kind, targetID, owner, reason string, deadline int64) {
		r := domain.DrawRequest{DrawID: drawID, CaseID: caseID, Size: size, Exclude: []string{exclude},
			Target: domain.Target{Kind: kind, ID: targetID, OwnerID: owner}, Reason: reason,
			Deadline: time.Unix(0, deadline).UTC()}
		if err := r.Validate(); err != nil {
			refused(t, err)
			return
		}
		for field, v := range map[string]string{"draw_id": drawID, "case_id": caseID, "exclude": exclude, "target.id": targetID} {
			mustBeID(t, "draw request", field, v)
		}
		mustBeClean(t, "draw request", owner, reason)
		if size < domain.MinJurySize || size > domain.MaxJurySize || !slices.Contains(domain.TargetKinds, kind) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// A case-decided event that is accepted names a storable case and jurors
// with contract votes; everything else is refused (and dropped).
func FuzzCaseResult(f *testing.F) {
	f.Add("case-1", "upheld", "alice", "uphold", int64(0))
	f.Add("", "maybe", "", "abstain", int64(-1))
	f.Fuzz(func(t *testing.T, caseID, decision, juror, vote string, decidedAt int64) {
		res, err := domain.NewCaseResult(caseID, decision, time.Unix(0, decidedAt).UTC(), map[string]string{juror: vote})
		if err != nil {
			refused(t, err)
			return
		}
		mustBeID(t, "case result", "case_id", res.CaseID)
		mustBeID(t, "case result", "juror_id", juror)
		if vote != domain.VoteUphold && vote != domain.VoteReject {
			t.Fatalf("accepted vote %q", vote)
		}
	})
}

// Settings durations (active_within, cooldown, interval, suspension) accept
// Go duration strings, and what is accepted is written in a form that reads
// back as the same duration.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"168h", "0s", "1ms", "1.5s", "-1s", "90m", "2562047h47m16.854775807s", "1e3s", "", "24h0m0s", "1h0m1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(what string, d time.Duration) {
			written := domain.FormatDuration(d)
			if d == 0 {
				written = "0s"
			}
			back, err := time.ParseDuration(written)
			if err != nil || back != d {
				t.Fatalf("%s %q read as %s, written %q, reads back as %s (%v)", what, s, d, written, back, err)
			}
		}
		if r, err := domain.NewPoolRule(nil, s); err != nil {
			refused(t, err)
		} else {
			if r.ActiveWithin < domain.MinActiveWithin {
				t.Fatalf("active_within %q accepted as %s", s, r.ActiveWithin)
			}
			check("active_within", r.ActiveWithin)
		}
		if fa, err := domain.NewFatigue(1, 1, s); err != nil {
			refused(t, err)
		} else {
			if fa.Cooldown != 0 && fa.Cooldown < time.Second || fa.Cooldown > domain.MaxCooldown {
				t.Fatalf("cooldown %q accepted as %s", s, fa.Cooldown)
			}
			check("cooldown", fa.Cooldown)
		}
		if a, err := domain.NewAdjustmentRule(s, 10, 5, 0.5, 0.5, s); err != nil {
			refused(t, err)
		} else {
			check("interval", a.Interval)
			check("suspension", a.Suspension)
		}
	})
}
