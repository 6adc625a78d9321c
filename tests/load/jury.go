package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/tests/platform"
)

// jury: the p99 of POST /internal/juries (straight to the reviewer with its
// sidecar's app token, juries of five) at LOAD_USERS eligible users seeded
// into the reviewer database, beside a bare indexed SELECT ... LIMIT 5 on
// the same jurors table; the seeded users are removed afterwards so that
// later phases draw from their own pool (and vacuumed, so that their dead
// rows do not slow those draws). From agedFrom users on, it measures again
// on the pool aged by ageJuryPool.
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
	if err := l.juryDraws(ctx, prefix, "", users, top, t0); err != nil {
		return err
	}
	if users < agedFrom {
		return nil
	}
	t1 := time.Now()
	if err := l.ageJuryPool(ctx, prefix, users); err != nil {
		return err
	}
	logf("jury: aged the pool in %s", time.Since(t1).Round(time.Millisecond))
	return l.juryDraws(ctx, prefix+"aged-", " after modelled 100M activity events", users, top, t1)
}

// agedFrom is the pool size from which the jury phase also measures the
// draw on an aged pool (ageJuryPool): the default make load stays within
// its time budget.
const agedFrom = 1_000_000

// juryDraws measures the draw beside the bare select; case ids start with
// casePrefix, label ends the table row's figure.
func (l *load) juryDraws(ctx context.Context, casePrefix, label string, users int, top int64, t0 time.Time) error {
	n := l.o.n(2000)
	// The seeding (or the ageing) just wrote hundreds of MB: without a
	// checkpoint here, the one it triggers spreads that writeback over the
	// draws, and every commit's WAL flush queues behind it (run of
	// 2026-12-02 22:14Z: p99 25.6 ms with a checkpoint writing throughout).
	// That measures the seeding, not the draw.
	t := time.Now()
	if _, err := l.reviewer.Exec(ctx, `CHECKPOINT`); err != nil {
		return fmt.Errorf("checkpoint after seeding: %w", err)
	}
	logf("jury: checkpoint after preparing the pool took %s", time.Since(t).Round(time.Millisecond))
	sidecar := l.plat.AsSidecar("reviewer")
	sidecar.HTTP = l.hc
	stopProfile := l.profile(ctx, "jury", 10*time.Second, "reviewer", "reviewer-dapr")
	ours := Run(ctx, "POST /internal/juries of 5, 1 conn", n, 1, 0, func(ctx context.Context, i int) error {
		caseID := fmt.Sprintf("%scase-%d", casePrefix, i)
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
	stopProfile()
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
	l.add(fmt.Sprintf("jury draw of 5 at %d eligible users%s, p50/p99 (1 conn)", users, label),
		fmt.Sprintf("p50 %s, p99 %s, %.0f draws/s, %d failed", ms(ours.Lat.Quantile(.5)), ms(ours.Lat.Quantile(.99)), ours.Rate(), ours.Failed),
		fmt.Sprintf("p50 %s, p99 %s (indexed SELECT ... LIMIT 5, same table)", ms(bare.Lat.Quantile(.5)), ms(bare.Lat.Quantile(.99))), ratio)
	l.note("jury draw%s: the ratio column is bare p99 / ours p99 (a latency, so smaller is slower); %d users prepared in %s", label, users, time.Since(t0).Round(time.Second))
	if ours.Failed > 0 || bare.Failed > 0 {
		return fmt.Errorf("jury draws: %d failed (%s), bare selects: %d failed (%s)", ours.Failed, ours.FirstErr, bare.Failed, bare.FirstErr)
	}
	return nil
}

// ageJuryPool leaves behind, at a bounded cost, what 100M activity events
// would leave in the tables a draw reads (100 events per user at 1M users
// cannot be replayed here): each activity event rewrites its user's profile
// row (RecordActivity), and the tasks users took over time rewrite their
// juror rows (assigned, voted, last_closed_at) and pile up as history. So:
// three rounds of updates of every profile and one of every juror, with no
// vacuum in between (three dead versions a profile, one a juror, and their
// index entries: what lags behind autovacuum on a busy table), and two
// closed, decided tasks a user (one draw of five for every 2.5 users),
// created over the last 30 days, 2 to 30 days old so that none counts
// towards the daily limit. The history is written with triggers off (no
// task notifications for tasks nobody is waiting for, no per-row foreign
// key checks: the rows are consistent by construction).
func (l *load) ageJuryPool(ctx context.Context, prefix string, users int) error {
	for i := range 3 {
		if _, err := l.reviewer.Exec(ctx, `UPDATE profiles SET last_active_at = now() - (random() * 99) * interval '1 minute',
			updated_at = now() WHERE user_id LIKE $1 || '%'`, prefix); err != nil {
			return fmt.Errorf("age profiles (round %d): %w", i+1, err)
		}
	}
	if _, err := l.reviewer.Exec(ctx, `UPDATE jurors SET assigned = assigned + 2, voted = voted + 2, agreed = agreed + 2,
		last_closed_at = now() - interval '2 days', updated_at = now() WHERE user_id LIKE $1 || '%'`, prefix); err != nil {
		return fmt.Errorf("age jurors: %w", err)
	}
	draws := 2 * users / 5
	err := pgx.BeginFunc(ctx, l.reviewer, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO draws (draw_id, case_id, jurors, created_at)
			SELECT $1 || 'hist-' || g || '/jury', $1 || 'hist-' || g,
			       ARRAY(SELECT $1 || (1 + (g * 5 + k) % $3) FROM generate_series(0, 4) AS k),
			       now() - interval '2 days' - (g % 40320) * interval '1 minute'
			FROM generate_series(1, $2) AS g`, prefix, draws, users); err != nil {
			return fmt.Errorf("draws history: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tasks (case_id, juror_id, draw_id, target_kind, target_id, target_owner_id, reason,
			deadline, status, close_reason, created_at, closed_at, voted_at, vote, decision, agreed, settled_at)
			SELECT d.case_id, j, d.draw_id, 'item', 't-' || d.case_id, 'owner', 'load', d.created_at + interval '1 day',
			       'closed', 'voted', d.created_at, d.created_at + interval '1 hour', d.created_at + interval '1 hour',
			       'uphold', 'upheld', true, d.created_at + interval '2 hours'
			FROM draws d CROSS JOIN LATERAL unnest(d.jurors) AS j WHERE d.case_id LIKE $1 || 'hist-%'`, prefix); err != nil {
			return fmt.Errorf("tasks history: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = l.reviewer.Exec(ctx, `ANALYZE profiles; ANALYZE jurors; ANALYZE tasks; ANALYZE draws`)
	return err
}

// dropJuryPool removes the seeded users and what their draws made
// (platform.DropSeededJurors), then vacuums the tables the draws read.
func (l *load) dropJuryPool(prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	err := platform.DropSeededJurors(ctx, l.reviewer, prefix)
	if err != nil {
		logf("jury: drop the seeded pool: %v", err)
	}
	// Without this the next phase's draws walk the dead index entries of
	// the removed users until autovacuum gets to them.
	for _, table := range []string{"jurors", "profiles", "tasks", "draws"} {
		if _, err := l.reviewer.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			logf("jury: vacuum %s: %v", table, err)
		}
	}
}
