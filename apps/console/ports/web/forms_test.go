package web

import (
	"errors"
	"net/url"
	"testing"
)

func TestSettingBodyRefusesBadValuesBeforeAnyCall(t *testing.T) {
	policy, _ := FindSetting("policy-item")
	good := url.Values{"jury_size": {"3"}, "quorum": {"2"}, "juror_timeout": {"1h"}, "max_duration": {"24h"},
		"max_substitutes": {"2"}, "on_timeout": {"undecided"}, "cooldown": {"0s"}, "csrf": {"x"}}
	tests := []struct {
		name  string
		field string
		value string
	}{
		{"a jury size that is not a number", "jury_size", "three"},
		{"a missing quorum", "quorum", ""},
		{"a timeout that is not a duration", "juror_timeout", "an hour"},
		{"an unknown on_timeout", "on_timeout", "explode"},
		{"a NUL in a field", "max_duration", "1h\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(tt.field, tt.value)
			_, err := policy.Body(form)
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("Body accepted %s=%q (err %v)", tt.field, tt.value, err)
			}
		})
	}
	t.Run("an unknown field", func(t *testing.T) {
		form := url.Values{"bogus": {"1"}}
		for k, v := range good {
			form[k] = v
		}
		if _, err := policy.Body(form); err == nil {
			t.Fatal("Body accepted an unknown field")
		}
	})
	body, err := policy.Body(good)
	if err != nil {
		t.Fatalf("a good policy was refused: %v", err)
	}
	if body["jury_size"] != int64(3) || body["on_timeout"] != "undecided" || body["cooldown"] != "0s" {
		t.Fatalf("body = %v", body)
	}
}

func TestPoolRuleTagsAreACommaSeparatedList(t *testing.T) {
	rule, _ := FindSetting("pool-rule")
	body, err := rule.Body(url.Values{"required_tags": {" verified, , trusted "}, "active_within": {"168h"}})
	if err != nil {
		t.Fatal(err)
	}
	tags := body["required_tags"].([]string)
	if len(tags) != 2 || tags[0] != "verified" || tags[1] != "trusted" {
		t.Fatalf("tags = %q", tags)
	}
	body, err = rule.Body(url.Values{"required_tags": {""}, "active_within": {"1h"}})
	if err != nil || len(body["required_tags"].([]string)) != 0 {
		t.Fatalf("no tags: %v %v", body, err)
	}
}

func TestAdjustmentRatiosAreNumbers(t *testing.T) {
	adj, _ := FindSetting("adjustment")
	form := url.Values{"interval": {"1m"}, "window": {"20"}, "min_tasks": {"5"}, "max_timeout_ratio": {"half"},
		"min_agreement_rate": {"0.2"}, "suspension": {"168h"}}
	if _, err := adj.Body(form); err == nil {
		t.Fatal("a ratio that is not a number was accepted")
	}
	form.Set("max_timeout_ratio", "0.5")
	body, err := adj.Body(form)
	if err != nil || body["max_timeout_ratio"] != 0.5 {
		t.Fatalf("body %v, err %v", body, err)
	}
}

func TestCaseQueryChecksEveryFilter(t *testing.T) {
	bad := []url.Values{
		{"status": {"closed"}},
		{"kind": {"car"}},
		{"created_after": {"yesterday"}},
		{"created_before": {"2026-13-01"}},
		{"limit": {"0"}},
		{"limit": {"501"}},
		{"limit": {"ten"}},
		{"cursor": {"a\x00b"}},
	}
	for _, q := range bad {
		if _, err := ParseCaseQuery(q); err == nil {
			t.Errorf("ParseCaseQuery(%v) accepted it", q)
		}
	}
	cq, err := ParseCaseQuery(url.Values{"status": {"escalated"}, "kind": {"item"}, "created_after": {"2026-12-02T10:30"},
		"created_before": {"2026-12-03"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := url.ParseQuery(cq.APIQuery())
	if got.Get("created_after") != "2026-12-02T10:30:00Z" || got.Get("created_before") != "2026-12-03T00:00:00Z" ||
		got.Get("status") != "escalated" || got.Get("kind") != "item" || got.Get("limit") != "20" {
		t.Fatalf("API query %v", got)
	}
}

func TestFieldValueShowsTheCurrentSetting(t *testing.T) {
	cur := map[string]any{"required_tags": []any{"a", "b"}, "max_timeout_ratio": 0.5, "window": float64(20)}
	for field, want := range map[string]string{"required_tags": "a, b", "max_timeout_ratio": "0.5", "window": "20", "missing": ""} {
		if got := (Field{Name: field}).Value(cur); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
}
