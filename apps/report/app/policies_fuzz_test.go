package app

import (
	"errors"
	"testing"

	"github.com/govern/kit/liveconfig"
	"github.com/govern/report/domain"
)

// Whatever the configuration store posts, the policy in force stays a valid
// policy of its kind: a stored value is installed only when it is one.
func FuzzPolicySetting(f *testing.F) {
	for _, s := range []string{
		`{"kind":"item","jury_size":3,"quorum":2,"juror_timeout":"1h","max_duration":"24h","max_substitutes":2,"on_timeout":"undecided","cooldown":"0s"}`,
		`{"kind":"post","jury_size":3,"quorum":2,"juror_timeout":"1h","max_duration":"24h","max_substitutes":2,"on_timeout":"undecided"}`,
		`{"kind":"item","jury_size":2,"quorum":1}`, `{"kind":"item","juror_timeout":3600}`, `null`, `[]`, `"x"`, ``,
	} {
		f.Add([]byte(s), int64(2))
	}
	f.Fuzz(func(t *testing.T, raw []byte, version int64) {
		c := NewPolicyCache()
		applied, err := c.Live().Apply(SettingKey("item"), raw, version)
		got := c.Get("item")
		switch {
		case err != nil:
			if !errors.Is(err, liveconfig.ErrInvalidValue) || applied || got != domain.DefaultPolicy("item") {
				t.Fatalf("refused with %v, yet applied=%v, policy %+v", err, applied, got)
			}
		case applied:
			if got.Kind != "item" || got.Validate() != nil || version <= 0 {
				t.Fatalf("installed %+v at version %d", got, version)
			}
		default:
			if version > 0 || got != domain.DefaultPolicy("item") {
				t.Fatalf("a valid newer policy was not installed: version %d, policy %+v", version, got)
			}
		}
		for _, k := range domain.Kinds[1:] {
			if c.Get(k) != domain.DefaultPolicy(k) {
				t.Fatalf("policy.item changed %s", k)
			}
		}
	})
}
