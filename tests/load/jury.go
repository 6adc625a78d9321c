package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// jury: the p99 of POST /internal/juries (straight to the reviewer with its
// sidecar's app token, juries of five) at LOAD_USERS eligible users seeded
// into the reviewer database, beside a bare indexed SELECT ... LIMIT 5 on
// the same jurors table; the seeded users are removed afterwards so that
// later phases draw from their own pool (and vacuumed, so that their dead
// rows do not slow those draws).
func (l *load) jury(ctx context.Context) error {
	users := l.o.users
	prefix := l.run + "-jp-"
	logf("jury: seeding %d eligible users into the reviewer database", users)
	t0 := time.Now()
	if _, err := l.reviewer.Exec(ctx, `INSERT INTO profiles (user_id, tags, last_active_at)
		SELECT $1 || g, ARRAY['verified'], now() - (g % 100) * interval '1 minute'
		FROM generate_series(1, $2) AS g`, prefix, users); err != nil {
		return fmt.Errorf("seed profiles: %w", err)
	}
	defer l.dropJuryPool(prefix)
	if _, err := l.reviewer.Exec(ctx, `INSERT INTO jurors (user_id) SELECT $1 || g FROM generate_series(1, $2) AS g ORDER BY g`, prefix, users); err != nil {
		return fmt.Errorf("seed jurors: %w", err)
	}
	if _, err := l.reviewer.Exec(ctx, `ANALYZE profiles; ANALYZE jurors`); err != nil {
		return err
	}
	logf("jury: seeded in %s", time.Since(t0).Round(time.Millisecond))
	var top int64
	if err := l.reviewer.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM jurors`).Scan(&top); err != nil {
		return err
	}
	n := l.o.n(2000)
	sidecar := l.plat.AsSidecar("reviewer")
	sidecar.HTTP = l.hc
	wait := l.profile(ctx, "jury", 10*time.Second, "reviewer", "reviewer-dapr")
	ours := Run(ctx, "POST /internal/juries of 5, 1 conn", n, 1, 0, func(ctx context.Context, i int) error {
		caseID := fmt.Sprintf("%scase-%d", prefix, i)
		resp, err := sidecar.Do(ctx, http.MethodPost, "/internal/juries", map[string]any{
			"draw_id": caseID + "/jury", "case_id": caseID, "size": 5, "exclude": []string{"reporter"}, "reason": "load",
			"target":   map[string]any{"kind": "item", "id": "t-" + caseID, "owner_id": "owner"},
			"deadline": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		if err != nil {
			return err
		}
		var out struct {
			Jurors []string `json:"jurors"`
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("%s", resp)
		}
		if err := resp.JSON(&out); err != nil {
			return err
		}
		if len(out.Jurors) != 5 {
			return fmt.Errorf("draw %d: %d jurors, want 5", i, len(out.Jurors))
		}
		return nil
	})
	wait()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	bare := Run(ctx, "bare indexed SELECT ... LIMIT 5, 1 conn", n, 1, 0, func(ctx context.Context, i int) error {
		rows, err := l.reviewer.Query(ctx, `SELECT user_id FROM jurors WHERE seq >= $1 ORDER BY seq LIMIT 5`, 1+rng.Int64N(max(top, 1)))
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("bare select found no jurors")
		}
		return err
	})
	ratio := 0.0
	if q := ours.Lat.Quantile(.99); q > 0 {
		ratio = float64(bare.Lat.Quantile(.99)) / float64(q)
	}
	l.add(fmt.Sprintf("jury draw of 5 at %d eligible users, p50/p99 (1 conn)", users),
		fmt.Sprintf("p50 %s, p99 %s, %.0f draws/s, %d failed", ms(ours.Lat.Quantile(.5)), ms(ours.Lat.Quantile(.99)), ours.Rate(), ours.Failed),
		fmt.Sprintf("p50 %s, p99 %s (indexed SELECT ... LIMIT 5, same table)", ms(bare.Lat.Quantile(.5)), ms(bare.Lat.Quantile(.99))), ratio)
	l.note("jury draw: the ratio column is bare p99 / ours p99 (a latency, so smaller is slower); %d users seeded in %s", users, time.Since(t0).Round(time.Second))
	if ours.Failed > 0 || bare.Failed > 0 {
		return fmt.Errorf("jury draws: %d failed (%s), bare selects: %d failed (%s)", ours.Failed, ours.FirstErr, bare.Failed, bare.FirstErr)
	}
	return nil
}

// dropJuryPool removes the seeded users and what their draws made.
func (l *load) dropJuryPool(prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, q := range []string{
		`DELETE FROM tasks WHERE case_id LIKE $1 || '%' OR juror_id LIKE $1 || '%'`,
		`DELETE FROM draws WHERE case_id LIKE $1 || '%'`,
		`DELETE FROM juror_transitions WHERE user_id LIKE $1 || '%'`,
		`DELETE FROM jurors WHERE user_id LIKE $1 || '%'`,
		`DELETE FROM profiles WHERE user_id LIKE $1 || '%'`,
	} {
		if _, err := l.reviewer.Exec(ctx, q, prefix); err != nil {
			logf("jury: drop the seeded pool: %v", err)
		}
	}
	// Without this the next phase's draws walk the dead index entries of
	// the removed users until autovacuum gets to them.
	for _, table := range []string{"jurors", "profiles", "tasks", "draws"} {
		if _, err := l.reviewer.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			logf("jury: vacuum %s: %v", table, err)
		}
	}
}
