package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestOnlyActiveJurorsMatchingTheRuleAreEligible(t *testing.T) {
	t.Parallel()
	rule := domain.PoolRule{RequiredTags: []string{"en", "trusted"}, ActiveWithin: 24 * time.Hour}
	cases := []struct {
		name  string
		state domain.JurorState
		tags  []string
		last  time.Time
		want  bool
	}{
		{"has every tag and was active recently", domain.JurorActive, []string{"trusted", "en", "fr"}, now.Add(-time.Hour), true},
		{"active exactly at the window's edge", domain.JurorActive, []string{"en", "trusted"}, now.Add(-24 * time.Hour), true},
		{"missing a required tag", domain.JurorActive, []string{"en"}, now.Add(-time.Hour), false},
		{"inactive too long", domain.JurorActive, []string{"en", "trusted"}, now.Add(-25 * time.Hour), false},
		{"paused", domain.JurorPaused, []string{"en", "trusted"}, now, false},
		{"suspended", domain.JurorSuspended, []string{"en", "trusted"}, now, false},
		{"retired", domain.JurorRetired, []string{"en", "trusted"}, now, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := domain.Profile{UserID: "u", Tags: tc.tags, LastActiveAt: tc.last}
			if got := domain.Eligible(tc.state, p, rule, now); got != tc.want {
				t.Fatalf("Eligible = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDefaultRuleAcceptsAnyoneActiveThisWeek(t *testing.T) {
	t.Parallel()
	rule := domain.DefaultPoolRule()
	if !rule.Matches(domain.Profile{LastActiveAt: now.Add(-167 * time.Hour)}, now) {
		t.Fatal("untagged user active 167h ago should match")
	}
	if rule.Matches(domain.Profile{LastActiveAt: now.Add(-169 * time.Hour)}, now) {
		t.Fatal("user active 169h ago should not match")
	}
	if got := domain.FormatDuration(rule.ActiveWithin); got != "168h" {
		t.Fatalf("default active_within = %q, want 168h", got)
	}
}

func TestPoolRuleValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tags   []string
		within string
		valid  bool
	}{
		{"default", nil, "168h", true},
		{"one second", []string{"en"}, "1s", true},
		{"below one second", nil, "999ms", false},
		{"zero", nil, "0s", false},
		{"negative", nil, "-1h", false},
		{"not a duration", nil, "7d", false},
		{"missing", nil, "", false},
		{"empty tag", []string{""}, "1h", false},
		{"overlong tag", []string{strings.Repeat("x", 65)}, "1h", false},
		{"too many tags", make51Tags(), "1h", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewPoolRule(tc.tags, tc.within)
			if tc.valid && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tc.valid && !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func make51Tags() []string {
	tags := make([]string, 51)
	for i := range tags {
		tags[i] = strings.Repeat("t", i+1)
	}
	return tags
}

func TestProfileValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		userID string
		tags   []string
		last   time.Time
		valid  bool
	}{
		{"ordinary profile", "u1", []string{"en"}, now.Add(-time.Hour), true},
		{"no tags", "u1", nil, now, true},
		{"slightly in the future", "u1", nil, now.Add(4 * time.Minute), true},
		{"far in the future", "u1", nil, now.Add(6 * time.Minute), false},
		{"missing activity time", "u1", nil, time.Time{}, false},
		{"missing user id", "", nil, now, false},
		{"overlong user id", strings.Repeat("u", 129), nil, now, false},
		{"empty tag", "u1", []string{"en", ""}, now, false},
		{"too many tags", "u1", make51Tags(), now, false},
		{"user id with NUL", "u\x00", nil, now, false},
		{"user id with a control character", "u\x01", nil, now, false},
		{"user id with a leading space", " u1", nil, now, false},
		{"user id in another script", "用户", nil, now, true},
		{"tag with NUL", "u1", []string{"a\x00"}, now, false},
		{"tag with a bell", "u1", []string{"bell\a"}, now, false},
		{"tag of white space", "u1", []string{"  "}, now, false},
		{"tag of 65 characters", "u1", []string{strings.Repeat("é", 65)}, now, false},
		{"tag of 64 characters", "u1", []string{strings.Repeat("é", 64)}, now, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewProfile(tc.userID, tc.tags, tc.last, now)
			if tc.valid && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tc.valid && !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestRepeatedTagsAreStoredOnce(t *testing.T) {
	t.Parallel()
	p, err := domain.NewProfile("u1", []string{"en", "fr", "en"}, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Tags, ",") != "en,fr" {
		t.Fatalf("tags = %v", p.Tags)
	}
}

func TestDurationsAreWrittenCompactly(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]string{
		168 * time.Hour:               "168h",
		90 * time.Minute:              "1h30m",
		time.Hour + time.Second:       "1h0m1s",
		time.Second:                   "1s",
		1500 * time.Millisecond:       "1.5s",
		2*time.Minute + 0*time.Second: "2m",
	} {
		if got := domain.FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
	}
}
