package app

import (
	"context"
	"fmt"

	"github.com/govern/reward/domain"
)

// RulesRepository stores every revision of the reward rules.
type RulesRepository interface {
	// Current returns the highest version.
	Current(ctx context.Context) (domain.VersionedRules, error)
	// Append stores r as the next version, recording who set it.
	Append(ctx context.Context, r domain.Rules, setBy string) (domain.VersionedRules, error)
}

// GetRules answers the current rules. They are read from the database on every
// call, so a change made on any replica applies everywhere at once.
type GetRules struct{ rules RulesRepository }

func (h GetRules) Handle(ctx context.Context) (domain.VersionedRules, error) {
	r, err := h.rules.Current(ctx)
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("read current rules: %w", err)
	}
	return r, nil
}

// UpdateRules validates and stores a new revision of the rules.
type UpdateRules struct{ rules RulesRepository }

func (h UpdateRules) Handle(ctx context.Context, r domain.Rules, setBy string) (domain.VersionedRules, error) {
	if err := r.Validate(); err != nil {
		return domain.VersionedRules{}, err
	}
	stored, err := h.rules.Append(ctx, r, setBy)
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("store rules set by %s: %w", setBy, err)
	}
	return stored, nil
}
