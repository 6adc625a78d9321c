package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/govern/reward/domain"
)

// RulesSettingKey is the configuration-store key under which every rules
// change is announced to all replicas; its version is the rules version.
const RulesSettingKey = "rules"

// RulesRepository stores every revision of the reward rules.
type RulesRepository interface {
	// Current returns the highest version.
	Current(ctx context.Context) (domain.VersionedRules, error)
	// Append stores r as the next version, recording who set it, and in the
	// same transaction publishes it as the RulesSettingKey setting.
	Append(ctx context.Context, r domain.Rules, setBy string) (domain.VersionedRules, error)
}

// RulesCache holds the current rules on this replica. Changes arrive from this
// replica's own writes and from the configuration store's subscription; a
// change never replaces a newer version.
type RulesCache struct {
	mu      sync.RWMutex
	current domain.VersionedRules
}

// NewRulesCache starts with version 1, the defaults every database is seeded with.
func NewRulesCache() *RulesCache {
	return &RulesCache{current: domain.VersionedRules{Rules: domain.DefaultRules(), Version: 1}}
}

// Get returns the current rules.
func (c *RulesCache) Get() domain.VersionedRules {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.current
}

// Apply installs r unless the same or a newer version is already installed.
func (c *RulesCache) Apply(r domain.VersionedRules) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Version <= c.current.Version {
		return false
	}
	c.current = r
	return true
}

// ApplySetting installs rules received from the configuration store; it
// ignores other keys and values that are not valid rules.
func (c *RulesCache) ApplySetting(key string, value []byte, version string) bool {
	v, err := strconv.ParseInt(version, 10, 64)
	if key != RulesSettingKey || err != nil {
		return false
	}
	var r domain.Rules
	if json.Unmarshal(value, &r) != nil || r.Validate() != nil {
		return false
	}
	return c.Apply(domain.VersionedRules{Rules: r, Version: v})
}

// GetRules answers the rules this replica has installed: its own latest write
// at once, other replicas' within the configuration subscription's delay.
type GetRules struct{ cache *RulesCache }

func (h GetRules) Handle() domain.VersionedRules { return h.cache.Get() }

// ReloadRules installs the current rules from the database, the source of
// truth; it runs at start and whenever the configuration subscription is renewed.
type ReloadRules struct {
	rules RulesRepository
	cache *RulesCache
}

func (h ReloadRules) Handle(ctx context.Context) error {
	r, err := h.rules.Current(ctx)
	if err != nil {
		return fmt.Errorf("read current rules: %w", err)
	}
	h.cache.Apply(r)
	return nil
}

// UpdateRules validates and stores a new revision of the rules and installs
// it on this replica before answering.
type UpdateRules struct {
	rules RulesRepository
	cache *RulesCache
}

func (h UpdateRules) Handle(ctx context.Context, r domain.Rules, setBy string) (domain.VersionedRules, error) {
	if err := r.Validate(); err != nil {
		return domain.VersionedRules{}, err
	}
	stored, err := h.rules.Append(ctx, r, setBy)
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("store rules set by %s: %w", setBy, err)
	}
	h.cache.Apply(stored)
	return stored, nil
}
