package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/reward/domain"
)

// querier is what both a pool and a transaction offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RulesRepository stores reward rule revisions in reward_rules.
type RulesRepository struct{ pool *pgxpool.Pool }

func NewRulesRepository(pool *pgxpool.Pool) *RulesRepository { return &RulesRepository{pool: pool} }

func (r *RulesRepository) Current(ctx context.Context) (domain.VersionedRules, error) {
	return currentRules(ctx, r.pool)
}

func (r *RulesRepository) Append(ctx context.Context, rules domain.Rules, setBy string) (domain.VersionedRules, error) {
	var stored domain.VersionedRules
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// Serialise writers so each gets the next version; readers are not blocked.
		if _, err := tx.Exec(ctx, `LOCK TABLE reward_rules IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock rules: %w", err)
		}
		stored.Rules = rules
		return tx.QueryRow(ctx, `
			INSERT INTO reward_rules (version, points_per_vote, majority_bonus, daily_cap, set_by)
			SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4 FROM reward_rules
			RETURNING version`,
			rules.PointsPerVote, rules.MajorityBonus, rules.DailyCap, setBy,
		).Scan(&stored.Version)
	})
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("insert rules: %w", err)
	}
	return stored, nil
}

func currentRules(ctx context.Context, q querier) (domain.VersionedRules, error) {
	var v domain.VersionedRules
	err := q.QueryRow(ctx, `
		SELECT version, points_per_vote, majority_bonus, daily_cap
		FROM reward_rules ORDER BY version DESC LIMIT 1`,
	).Scan(&v.Version, &v.PointsPerVote, &v.MajorityBonus, &v.DailyCap)
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("select current rules: %w", err)
	}
	return v, nil
}
