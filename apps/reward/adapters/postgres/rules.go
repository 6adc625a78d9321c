package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

// querier is what both a pool and a transaction offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RulesRepository stores reward rule revisions in reward_rules and announces
// each one in settings, the reward-config configuration store.
type RulesRepository struct{ pool *pgxpool.Pool }

func NewRulesRepository(pool *pgxpool.Pool) *RulesRepository { return &RulesRepository{pool: pool} }

func (r *RulesRepository) Current(ctx context.Context) (domain.VersionedRules, error) {
	var v domain.VersionedRules
	err := r.pool.QueryRow(ctx, `
		SELECT version, points_per_vote, majority_bonus, daily_cap
		FROM reward_rules ORDER BY version DESC LIMIT 1`,
	).Scan(&v.Version, &v.PointsPerVote, &v.MajorityBonus, &v.DailyCap)
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("select current rules: %w", err)
	}
	return v, nil
}

// Append inserts the next version and upserts the rules setting in one
// transaction, so the setting's trigger notifies the other replicas exactly
// when the version exists.
func (r *RulesRepository) Append(ctx context.Context, rules domain.Rules, setBy string) (domain.VersionedRules, error) {
	value, err := json.Marshal(rules)
	if err != nil {
		return domain.VersionedRules{}, err
	}
	stored := domain.VersionedRules{Rules: rules}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// Serialise writers so each gets the next version, and set_at grows
		// with the version; readers are not blocked.
		if _, err := tx.Exec(ctx, `LOCK TABLE reward_rules IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock rules: %w", err)
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO reward_rules (version, points_per_vote, majority_bonus, daily_cap, set_by, set_at)
			SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4, clock_timestamp() FROM reward_rules
			RETURNING version`,
			rules.PointsPerVote, rules.MajorityBonus, rules.DailyCap, setBy,
		).Scan(&stored.Version)
		if err != nil {
			return fmt.Errorf("insert rules: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO settings (key, value, version) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version`,
			app.RulesSettingKey, string(value), strconv.FormatInt(stored.Version, 10))
		if err != nil {
			return fmt.Errorf("upsert rules setting: %w", err)
		}
		return nil
	})
	if err != nil {
		return domain.VersionedRules{}, err
	}
	return stored, nil
}

// rulesAt picks the newest version set at or before t, or the first version
// when t predates them all.
func rulesAt(ctx context.Context, q querier, t time.Time) (domain.VersionedRules, error) {
	var v domain.VersionedRules
	err := q.QueryRow(ctx, `
		SELECT version, points_per_vote, majority_bonus, daily_cap
		FROM reward_rules
		ORDER BY CASE WHEN set_at <= $1 THEN version ELSE -version END DESC
		LIMIT 1`, t,
	).Scan(&v.Version, &v.PointsPerVote, &v.MajorityBonus, &v.DailyCap)
	if err != nil {
		return domain.VersionedRules{}, fmt.Errorf("select rules in force: %w", err)
	}
	return v, nil
}
