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
	if len(c.Live().Keys()) != len(domain.Kinds)+1 || c.DailyReportCap() != domain.DefaultDailyReportCap {
		t.Fatalf("keys %v", c.Live().Keys())
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
	raw, _ := json.Marshal(older)
	if ok, err := c.Live().Apply("policy.item", raw, 4); ok || err != nil {
		t.Fatalf("older version from the store: %v %v", ok, err)
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
		key, value string
	}{
		{"policy.post", string(rawBad)},  // not a majority
		{"policy.item", string(raw)},     // key and kind differ
		{"policy.post", `{"jury_size":`}, // not JSON
		{"pool-rule", string(raw)},       // not a policy key
	} {
		if ok, err := c.Live().Apply(tc.key, []byte(tc.value), 2); ok || err == nil {
			t.Fatalf("applied %+v", tc)
		}
	}
	if c.Get("post") != domain.DefaultPolicy("post") || c.Get("item") != domain.DefaultPolicy("item") {
		t.Fatal("a refused setting changed a policy")
	}
	if ok, err := c.Live().Apply("policy.post", raw, 2); !ok || err != nil || c.Get("post") != good {
		t.Fatalf("valid setting not applied: %v", err)
	}
}

func TestUnknownKindHasNoPolicy(t *testing.T) {
	t.Parallel()
	c := NewPolicyCache()
	p := domain.DefaultPolicy("item")
	p.Kind = "video"
	if c.Apply(p, 9) || c.Get("video") != (domain.Policy{}) {
		t.Fatal("a policy of an unknown kind was installed")
	}
}
