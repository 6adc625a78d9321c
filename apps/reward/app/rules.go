package app

import (
	"context"
	"fmt"

	"github.com/govern/kit/liveconfig"
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

// RulesCache holds the current rules on this replica, a live setting.
// Changes arrive from this replica's own writes and from the configuration
// store's subscription; a change never replaces a newer version.
type RulesCache struct {
	live  *liveconfig.Settings
	rules *liveconfig.Value[domain.Rules]
}

// NewRulesCache starts with version 1, the defaults every database is seeded with.
func NewRulesCache() *RulesCache {
	live := liveconfig.New()
	rules := liveconfig.Add(live, RulesSettingKey, domain.DefaultRules(), 1,
		liveconfig.JSON(func(r domain.Rules) (domain.Rules, error) { return r, r.Validate() }))
	return &RulesCache{live: live, rules: rules}
}

// Live is the setting the configuration watcher keeps current.
func (c *RulesCache) Live() *liveconfig.Settings { return c.live }

// Get returns the current rules.
func (c *RulesCache) Get() domain.VersionedRules {
	cur := c.rules.Current()
	return domain.VersionedRules{Rules: cur.Value, Version: cur.Version}
}

// Apply installs r unless the same or a newer version is already installed.
func (c *RulesCache) Apply(r domain.VersionedRules) bool { return c.rules.Set(r.Rules, r.Version) }

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
