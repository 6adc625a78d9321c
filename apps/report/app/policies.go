package app

import (
	"fmt"

	"github.com/govern/kit/liveconfig"
	"github.com/govern/report/domain"
)

// PolicyCache holds the current policy of every kind on this replica, one
// live setting per kind. Changes arrive from this replica's own writes and
// from the configuration store's subscription; a change never replaces a
// newer version.
type PolicyCache struct {
	live     *liveconfig.Settings
	policies map[string]*liveconfig.Value[domain.Policy]
	dailyCap *liveconfig.Value[int]
}

// NewPolicyCache starts with the defaults.
func NewPolicyCache() *PolicyCache {
	c := &PolicyCache{live: liveconfig.New(), policies: map[string]*liveconfig.Value[domain.Policy]{}}
	for _, k := range domain.Kinds {
		c.policies[k] = liveconfig.Add(c.live, SettingKey(k), domain.DefaultPolicy(k), 0, liveconfig.JSON(policyOf(k)))
	}
	c.dailyCap = addIntakeLimits(c.live)
	return c
}

// policyOf validates a stored policy of kind.
func policyOf(kind string) func(domain.Policy) (domain.Policy, error) {
	return func(p domain.Policy) (domain.Policy, error) {
		if p.Kind != kind {
			return domain.Policy{}, fmt.Errorf("%w: kind %q stored under %s", domain.ErrInvalidPolicy, p.Kind, SettingKey(kind))
		}
		return p, p.Validate()
	}
}

// Live is the set of policy settings the configuration watcher keeps current.
func (c *PolicyCache) Live() *liveconfig.Settings { return c.live }

// Get returns kind's current policy (the zero Policy for an unknown kind).
func (c *PolicyCache) Get(kind string) domain.Policy {
	if v, ok := c.policies[kind]; ok {
		return v.Get()
	}
	return domain.Policy{}
}

// All returns every kind's policy, in the order of domain.Kinds.
func (c *PolicyCache) All() []domain.Policy {
	out := make([]domain.Policy, 0, len(domain.Kinds))
	for _, k := range domain.Kinds {
		out = append(out, c.policies[k].Get())
	}
	return out
}

// Apply installs p at version unless a newer version is already installed.
func (c *PolicyCache) Apply(p domain.Policy, version int64) bool {
	v, ok := c.policies[p.Kind]
	return ok && v.Set(p, version)
}

// SettingKey is the configuration key of kind's policy.
func SettingKey(kind string) string { return "policy." + kind }
