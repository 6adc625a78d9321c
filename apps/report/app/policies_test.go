package app

import (
	"encoding/json"
	"testing"

	"github.com/govern/report/domain"
)

func TestPolicyCacheStartsWithDefaults(t *testing.T) {
	t.Parallel()
	c := NewPolicyCache()
	for _, p := range c.All() {
		if p != domain.DefaultPolicy(p.Kind) {
			t.Fatalf("%s: %+v, want the default", p.Kind, p)
		}
	}
}

func TestOlderPolicyVersionNeverReplacesNewer(t *testing.T) {
	t.Parallel()
	c := NewPolicyCache()
	newer := domain.DefaultPolicy("item")
	newer.JurySize, newer.Quorum = 3, 2
	if !c.Apply(newer, 5) {
		t.Fatal("version 5 refused")
	}
	older := domain.DefaultPolicy("item")
	if c.Apply(older, 4) || c.Apply(older, 5) {
		t.Fatal("an older or equal version replaced version 5")
	}
	if got := c.Get("item"); got != newer {
		t.Fatalf("got %+v", got)
	}
}

func TestSettingsThatAreNotValidPoliciesAreIgnored(t *testing.T) {
	t.Parallel()
	good := domain.DefaultPolicy("post")
	good.JurySize, good.Quorum = 7, 4
	raw, _ := json.Marshal(good)
	bad := good
	bad.Quorum = 2
	rawBad, _ := json.Marshal(bad)
	c := NewPolicyCache()
	for _, tc := range []struct {
		key, value, version string
	}{
		{"policy.post", string(rawBad), "2"},   // not a majority
		{"policy.item", string(raw), "2"},      // key and kind differ
		{"policy.post", `{"jury_size":`, "2"},  // not JSON
		{"policy.post", string(raw), "latest"}, // version not a number
		{"pool-rule", string(raw), "2"},        // not a policy key
	} {
		if c.ApplySetting(tc.key, []byte(tc.value), tc.version) {
			t.Fatalf("applied %+v", tc)
		}
	}
	if !c.ApplySetting("policy.post", raw, "2") || c.Get("post") != good {
		t.Fatal("valid setting not applied")
	}
}
