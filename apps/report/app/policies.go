package app

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/govern/report/domain"
)

// PolicyCache holds the current policy of every kind on this replica. Changes
// arrive from this replica's own writes and from the configuration store's
// subscription; a change never replaces a newer version.
type PolicyCache struct {
	mu       sync.RWMutex
	policies map[string]domain.Policy
	versions map[string]int64
}

// NewPolicyCache starts with the defaults.
func NewPolicyCache() *PolicyCache {
	c := &PolicyCache{policies: map[string]domain.Policy{}, versions: map[string]int64{}}
	for _, k := range domain.Kinds {
		c.policies[k] = domain.DefaultPolicy(k)
	}
	return c
}

// Get returns kind's current policy.
func (c *PolicyCache) Get(kind string) domain.Policy {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.policies[kind]
}

// All returns every kind's policy, in the order of domain.Kinds.
func (c *PolicyCache) All() []domain.Policy {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]domain.Policy, 0, len(domain.Kinds))
	for _, k := range domain.Kinds {
		out = append(out, c.policies[k])
	}
	return out
}

// Apply installs p at version unless a newer version is already installed.
func (c *PolicyCache) Apply(p domain.Policy, version int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version <= c.versions[p.Kind] {
		return false
	}
	c.policies[p.Kind], c.versions[p.Kind] = p, version
	return true
}

// SettingKey is the configuration key of kind's policy.
func SettingKey(kind string) string { return "policy." + kind }

// ApplySetting installs a policy received from the configuration store; it
// ignores keys and values that are not valid policies.
func (c *PolicyCache) ApplySetting(key string, value []byte, version string) bool {
	kind, ok := strings.CutPrefix(key, "policy.")
	v, err := strconv.ParseInt(version, 10, 64)
	if !ok || err != nil {
		return false
	}
	var p domain.Policy
	if json.Unmarshal(value, &p) != nil || p.Kind != kind || p.Validate() != nil {
		return false
	}
	return c.Apply(p, v)
}
