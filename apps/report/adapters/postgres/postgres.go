// Package postgres stores reports, cases, jurors and policies in the report
// service's own PostgreSQL database.
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/outbox"
	"github.com/govern/kit/pg"
	"github.com/govern/kit/telemetry"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the schema's goose migrations.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrationFiles, "migrations")
	return sub
}

// Repo implements app.Repository.
type Repo struct {
	db *pgxpool.Pool
	// filings waits for the filers (FileReport's group commit).
	filings    chan *filing
	startFiler sync.Once
}

// New returns a repository on db.
func New(db *pgxpool.Pool) *Repo { return &Repo{db: db, filings: make(chan *filing, 4*fileGroupMax)} }

var _ app.Repository = (*Repo)(nil)

func newID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (r *Repo) StoredPolicies(ctx context.Context) ([]app.VersionedPolicy, error) {
	rows, err := r.db.Query(ctx, `SELECT value, version::bigint FROM settings WHERE key LIKE 'policy.%' ORDER BY key`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.VersionedPolicy, error) {
		var (
			vp  app.VersionedPolicy
			raw []byte
		)
		if err := row.Scan(&raw, &vp.Version); err != nil {
			return vp, err
		}
		return vp, json.Unmarshal(raw, &vp.Policy)
	})
}

// SavePolicy upserts the policy's setting; the table's trigger notifies the
// sidecars' configuration subscriptions.
func (r *Repo) SavePolicy(ctx context.Context, p domain.Policy) (int64, error) {
	value, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	var version int64
	err = r.db.QueryRow(ctx, `INSERT INTO settings (key, value, version) VALUES ($1, $2, '1')
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = (settings.version::bigint + 1)::text
		RETURNING version::bigint`, app.SettingKey(p.Kind), string(value)).Scan(&version)
	return version, err
}

// StoredSetting reads one setting of the settings table.
func (r *Repo) StoredSetting(ctx context.Context, key string) ([]byte, int64, bool, error) {
	var (
		value   string
		version int64
	)
	err := r.db.QueryRow(ctx, `SELECT value, version::bigint FROM settings WHERE key = $1`, key).Scan(&value, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, false, nil
	}
	return []byte(value), version, err == nil, err
}

// SaveSetting upserts a setting; the table's trigger notifies the sidecars'
// configuration subscriptions.
func (r *Repo) SaveSetting(ctx context.Context, key string, value []byte) (int64, error) {
	var version int64
	err := r.db.QueryRow(ctx, `INSERT INTO settings (key, value, version) VALUES ($1, $2, '1')
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = (settings.version::bigint + 1)::text
		RETURNING version::bigint`, key, string(value)).Scan(&version)
	return version, err
}

func (r *Repo) ReportByKey(ctx context.Context, reporterID, key string) (app.Receipt, string, bool, error) {
	var (
		rc          app.Receipt
		fingerprint *string
	)
	err := r.db.QueryRow(ctx, `SELECT r.id, r.case_id, c.status, r.fingerprint FROM reports r JOIN cases c ON c.id = r.case_id
		WHERE r.reporter_id = $1 AND r.idempotency_key = $2`, reporterID, key).Scan(&rc.ReportID, &rc.CaseID, &rc.Status, &fingerprint)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.Receipt{}, "", false, nil
	}
	if err != nil {
		return app.Receipt{}, "", false, err
	}
	if fingerprint == nil {
		return rc, "", true, nil
	}
	return rc, *fingerprint, true, nil
}

// isDataException reports whether PostgreSQL refused a value itself (class
// 22, e.g. 22021 for a NUL byte): the same value can never be stored.
func isDataException(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

func (r *Repo) Report(ctx context.Context, id string) (app.ReportView, error) {
	var v app.ReportView
	err := r.db.QueryRow(ctx, `SELECT r.id, r.reporter_id, r.target_kind, r.target_id, r.target_owner, r.reason, r.evidence,
			r.case_id, c.status, r.created_at
		FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.id = $1`, id).Scan(
		&v.ID, &v.Report.ReporterID, &v.Report.Target.Kind, &v.Report.Target.ID, &v.Report.Target.OwnerID,
		&v.Report.Reason, &v.Report.Evidence, &v.CaseID, &v.Status, &v.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, domain.ErrReportNotFound
	}
	return v, err
}

// ReporterCounts counts the reporter's reports and, among their cases, the
// upheld and rejected ones (by whoever decided them: jury or staff).
func (r *Repo) ReporterCounts(ctx context.Context, reporterID string) (filed, upheld, rejected int, err error) {
	err = r.db.QueryRow(ctx, `SELECT count(*),
			count(*) FILTER (WHERE c.status = 'upheld'), count(*) FILTER (WHERE c.status = 'rejected')
		FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.reporter_id = $1`, reporterID).Scan(&filed, &upheld, &rejected)
	return filed, upheld, rejected, err
}

const caseColumns = `c.id, c.target_kind, c.target_id, c.target_owner, c.reason, c.status, c.policy, c.report_count,
	c.deadline, c.created_at, c.decided_at, coalesce(c.tally_uphold, 0), coalesce(c.tally_reject, 0),
	(SELECT count(*) FROM case_jurors j WHERE j.case_id = c.id AND j.round = c.round AND j.state = 'voted'),
	coalesce((SELECT array_agg(j.juror_id ORDER BY j.drawn_at, j.juror_id) FROM case_jurors j WHERE j.case_id = c.id AND j.round = c.round), '{}'),
	c.decided_by, coalesce(c.resolved_by, ''), coalesce(c.resolution_note, ''), c.round,
	coalesce(c.withdrawn_by, ''), coalesce(c.withdrawal_reason, ''), c.confidence`

func scanCase(row pgx.Row) (app.CaseView, error) {
	var v app.CaseView
	err := row.Scan(&v.ID, &v.Target.Kind, &v.Target.ID, &v.Target.OwnerID, &v.Reason, &v.Status, &v.Policy,
		&v.ReportCount, &v.Deadline, &v.CreatedAt, &v.DecidedAt, &v.Tally.Uphold, &v.Tally.Reject,
		&v.VotesCast, &v.Jurors, &v.DecidedBy, &v.ResolvedBy, &v.Note, &v.Round, &v.WithdrawnBy, &v.WithdrawalReason, &v.Confidence)
	return v, err
}

func (r *Repo) Case(ctx context.Context, id string) (app.CaseView, error) {
	v, err := scanCase(r.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, domain.ErrCaseNotFound
	}
	if err != nil {
		return v, err
	}
	rows, err := r.db.Query(ctx, `SELECT case_id, at, kind, juror_id, detail, round FROM case_events WHERE case_id = $1 ORDER BY id`, id)
	if err != nil {
		return v, err
	}
	if v.Timeline, err = pgx.CollectRows(rows, pgx.RowToStructByPos[app.Event]); err != nil {
		return v, err
	}
	return v, r.loadAppeal(ctx, &v)
}

// RecordEvent adds to a case's timeline; a repeated event is ignored.
func (r *Repo) RecordEvent(ctx context.Context, e app.Event) error {
	return recordEvent(ctx, r.db, e)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func recordEvent(ctx context.Context, db execer, e app.Event) error {
	_, err := db.Exec(ctx, `INSERT INTO case_events (case_id, at, kind, juror_id, detail) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, e.CaseID, e.At, e.Kind, e.JurorID, e.Detail)
	return err
}

type cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

func (r *Repo) ListCases(ctx context.Context, f app.CaseFilter) ([]app.CaseView, string, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("c.status = $%d", f.Status)
	}
	if f.Kind != "" {
		add("c.target_kind = $%d", f.Kind)
	}
	if !f.CreatedAfter.IsZero() {
		add("c.created_at > $%d", f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		add("c.created_at < $%d", f.CreatedBefore)
	}
	var cur cursor
	if ok, err := httpx.DecodeCursor(f.Cursor, &cur); err != nil || (ok && cur.ID == "") {
		return nil, "", httpx.BadRequest("cursor is not one this service issued")
	} else if ok {
		args = append(args, cur.CreatedAt, cur.ID)
		where = append(where, fmt.Sprintf("(c.created_at, c.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	q := `SELECT ` + caseColumns + ` FROM cases c`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit+1)
	q += fmt.Sprintf(` ORDER BY c.created_at DESC, c.id DESC LIMIT $%d`, len(args))
	rows, err := r.db.Query(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.CaseView, error) { return scanCase(row) })
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > f.Limit {
		items = items[:f.Limit]
		last := items[len(items)-1]
		next = httpx.EncodeCursor(cursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return items, next, nil
}

func (r *Repo) Voter(ctx context.Context, caseID, jurorID string) (string, bool, bool, error) {
	var (
		status         string
		drawn, drawing bool
	)
	err := r.db.QueryRow(ctx, `SELECT c.status,
			EXISTS (SELECT 1 FROM case_jurors j WHERE j.case_id = c.id AND j.juror_id = $2 AND j.round = c.round),
			coalesce(c.drawing_until > now(), false)
		FROM cases c WHERE c.id = $1`, caseID, jurorID).Scan(&status, &drawn, &drawing)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, false, domain.ErrCaseNotFound
	}
	return status, drawn, drawing, err
}

func (r *Repo) MarkDrawing(ctx context.Context, caseID string, until time.Time) error {
	_, err := r.db.Exec(ctx, `UPDATE cases SET drawing_until = $2 WHERE id = $1`, caseID, until)
	return err
}

// RecordVote stores a juror's vote while the case is open. It holds the case
// row's lock, so that closing the case and a vote never interleave (a vote
// either counts in the tally or is refused) and the votes of one case are
// counted one after the other: the vote that brings a side to the quorum
// sees every vote before it and closes the case (decide), so the decision
// is the vote's own commit, not a later step of the round.
func (r *Repo) RecordVote(ctx context.Context, caseID, jurorID, decision, comment string, now time.Time) (app.Voted, error) {
	var v app.Voted
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return v, err
	}
	defer tx.Rollback(ctx)
	// The case's lock, then the juror's seat in its current round (only a
	// seat of the current round votes: an earlier round's jurors sat on a
	// decision the appeal replaces), in one round trip.
	var (
		status, traceparent, state string
		round                      int
		policy                     domain.Policy
		deadline                   time.Time
		noCase, noSeat             bool
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT status, round, policy, coalesce(traceparent, '') FROM cases WHERE id = $1 FOR UPDATE`, caseID).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&status, &round, &policy, &traceparent)
			noCase = errors.Is(err, pgx.ErrNoRows)
			return ignoreNoRows(err)
		})
	b.Queue(`SELECT state, deadline FROM case_jurors WHERE case_id = $1 AND juror_id = $2
		AND round = (SELECT round FROM cases WHERE id = $1) FOR UPDATE`, caseID, jurorID).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&state, &deadline)
			noSeat = errors.Is(err, pgx.ErrNoRows)
			return ignoreNoRows(err)
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return v, err
	}
	switch {
	case noCase:
		return v, domain.ErrCaseNotFound
	case noSeat:
		return v, domain.ErrNotJuror
	}
	if err := domain.MayVote(state, deadline, now); err != nil {
		return v, err
	}
	if domain.Closed(status) {
		return v, domain.ErrCaseClosed
	}

	// The vote, its timeline event, its task's close and the round's tally
	// with it, in one round trip.
	var tally domain.Tally
	b = &pgx.Batch{}
	q := pg.Batched{B: b}
	b.Queue(`UPDATE case_jurors SET state = 'voted', decision = $3, comment = nullif($4, ''), voted_at = $5
		WHERE case_id = $1 AND juror_id = $2`, caseID, jurorID, decision, comment, now)
	if err := recordEvent(ctx, q, app.Event{CaseID: caseID, At: now, Kind: app.EventVoted, JurorID: jurorID}); err != nil {
		return v, err
	}
	if err := enqueueTaskClose(ctx, q, caseID, jurorID, "voted"); err != nil {
		return v, err
	}
	b.Queue(`SELECT count(*) FILTER (WHERE decision = $3), count(*) FILTER (WHERE decision = $4) FROM case_jurors
		WHERE case_id = $1 AND round = $2 AND state = 'voted'`, caseID, round, domain.VoteUphold, domain.VoteReject).
		QueryRow(func(row pgx.Row) error { return row.Scan(&tally.Uphold, &tally.Reject) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return v, err
	}
	// An adaptive round weighs its votes itself (CloseCase).
	if _, ok := tally.Decided(policy.Quorum); ok && !policy.IsAdaptive() {
		c, d, err := loadDecision(ctx, tx, caseID, false)
		if err != nil {
			return v, err
		}
		// The decision belongs to the round's trace (its publication and
		// credits follow it there), linked to the vote's own.
		dctx, span := telemetry.Start(telemetry.WithTraceparent(ctx, traceparent), "decide case",
			trace.WithLinks(trace.LinkFromContext(ctx)), trace.WithAttributes(telemetry.CaseID.String(caseID)))
		err = decide(dctx, tx, c, &d, now, "")
		telemetry.End(span, err)
		if err != nil {
			return v, err
		}
		v.Decided, v.CaseCreatedAt = &d, c.CreatedAt
	}

	// The vote's hand-over to the round (telling it of the decision, if
	// any), and both effects held back for VoteHandOverDelay.
	ev := app.RoundEvent{CaseID: caseID, JurorID: jurorID, Decision: decision, Round: round}
	if v.Decided != nil {
		ev.Closed = v.Decided.Decision
	}
	v.Event = ev
	b = &pgx.Batch{}
	if err := outbox.Enqueue(ctx, pg.Batched{B: b}, app.EffectRoundEvent, ev.Key(), ev); err != nil {
		return v, err
	}
	closeKey := app.TaskClose{CaseID: caseID, JurorID: jurorID}.Key()
	b.Queue(`UPDATE outbox SET next_at = now() + $3::interval WHERE dedup_key IN ($1, $2) AND dead_at IS NULL`,
		ev.Key(), closeKey, app.VoteHandOverDelay.String())
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return v, err
	}
	return v, tx.Commit(ctx)
}

// ignoreNoRows is err unless it says the query found no row.
func ignoreNoRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// ForgetEffect deletes a pending outbox row by its key (a relay working on
// it at this moment carries it out once more, which effects tolerate).
func (r *Repo) ForgetEffect(ctx context.Context, key string) error {
	_, err := r.db.Exec(ctx, `DELETE FROM outbox WHERE dedup_key = $1 AND dead_at IS NULL`, key)
	return err
}

func enqueueTaskClose(ctx context.Context, tx execer, caseID, jurorID, reason string) error {
	c := app.TaskClose{CaseID: caseID, JurorID: jurorID, Reason: reason}
	return outbox.Enqueue(ctx, tx, app.EffectCloseTask, c.Key(), c)
}

func (r *Repo) RoundsNotStarted(ctx context.Context, createdBefore time.Time, limit int) ([]app.RoundInput, error) {
	rows, err := r.db.Query(ctx, `SELECT id, round, policy, created_at, deadline, traceparent FROM cases
		WHERE round_started_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2`, createdBefore, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.RoundInput, error) {
		var in app.RoundInput
		err := row.Scan(&in.CaseID, &in.Round, &in.Policy, &in.CreatedAt, &in.Deadline, &in.Traceparent)
		return in, err
	})
}

func (r *Repo) MarkRoundStarted(ctx context.Context, caseID string, now time.Time) error {
	_, err := r.db.Exec(ctx, `UPDATE cases SET round_started_at = $2 WHERE id = $1 AND round_started_at IS NULL`, caseID, now)
	return err
}

func (r *Repo) Reporters(ctx context.Context, caseID string, limit int) ([]string, error) {
	rows, err := r.db.Query(ctx, `SELECT reporter_id FROM reports WHERE case_id = $1 ORDER BY created_at, id LIMIT $2`, caseID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SaveJury records the drawn jurors under the case row's lock, which a
// report joining the case also takes: either the report comes first and
// its reporter, if drawn, is recorded recused here, or the jury comes first
// and the joining report recuses them (fileReport).
//
// It is three round trips and one new version of the case row (the lock,
// the round's move to voting and the end of its pool wait in one UPDATE;
// then every seat with its timeline event, and the recused seats, in one
// batch; then the commit), plus the recusals' records in the rare case a
// reporter was drawn. It was ten round trips and two versions of the row:
// each version of an open case writes an entry in most of the table's
// indexes.
func (r *Repo) SaveJury(ctx context.Context, caseID string, jurors []string, rel map[string]domain.Reliability, t domain.SeatTimes, substitute bool) ([]string, error) {
	var recused []string
	drawnAt := t.DrawnAt
	kind := app.EventDrawn
	if substitute {
		kind = app.EventSubstituted
	}
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		// The status it returns is the latest committed: a withdrawal that
		// committed while this jury was being drawn is seen here, and none
		// can commit after this lock until this transaction ends.
		var status string
		if err := tx.QueryRow(ctx, `UPDATE cases SET drawing_until = NULL, pool_wait_at = NULL,
				status = CASE WHEN status = 'pending' THEN 'voting' ELSE status END
			WHERE id = $1 RETURNING status`, caseID).Scan(&status); err != nil {
			return err
		}
		var reporters []string // drawn jurors who reported the case
		b := &pgx.Batch{}
		for _, j := range jurors {
			var up, rej *float64
			if e, ok := rel[j]; ok {
				up, rej = &e.Uphold, &e.Reject
			}
			// The seat and its event (recordEvent's insert), the event only
			// when the seat is new: a seat that exists was recorded, with
			// its event, by an earlier attempt.
			b.Queue(`WITH seat AS (
					INSERT INTO case_jurors (case_id, juror_id, state, drawn_at, deadline, substitute, recused,
						reliability_uphold, reliability_reject, wake_at)
					SELECT $1, $2, CASE WHEN x.reporter THEN 'released' ELSE 'drawn' END, $3, $4, $5, x.reporter, $6, $7, $8
					FROM (SELECT EXISTS (SELECT 1 FROM reports WHERE case_id = $1 AND reporter_id = $2) AS reporter) x
					ON CONFLICT DO NOTHING RETURNING recused
				), event AS (
					INSERT INTO case_events (case_id, at, kind, juror_id, detail) SELECT $1, $3, $9, $2, '' FROM seat
					ON CONFLICT DO NOTHING
				)
				SELECT recused FROM seat`, caseID, j, drawnAt, t.Deadline, substitute, up, rej, t.FirstWake(), kind).
				QueryRow(func(row pgx.Row) error {
					var isReporter bool
					err := row.Scan(&isReporter)
					if err == nil && isReporter {
						reporters = append(reporters, j)
					}
					return ignoreNoRows(err)
				})
		}
		b.Queue(`SELECT juror_id FROM case_jurors WHERE case_id = $1 AND juror_id = ANY($2) AND recused
			ORDER BY juror_id`, caseID, jurors).Query(func(rows pgx.Rows) error {
			var err error
			recused, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		for _, j := range reporters {
			if err := recuse(ctx, tx, caseID, j, drawnAt, false); err != nil {
				return err
			}
		}
		// A withdrawal that committed while this jury was being drawn
		// released every seat it saw: release these too.
		if status == domain.StatusWithdrawn {
			return releaseOpenSeats(ctx, tx, caseID)
		}
		return nil
	})
	return recused, err
}

// recuse records a juror released for having reported the target: on the
// timeline, their task's close and, when the round must learn it from an
// event (tell), the recusal's hand-over to the round.
func recuse(ctx context.Context, tx pgx.Tx, caseID, jurorID string, now time.Time, tell bool) error {
	if err := recordEvent(ctx, tx, app.Event{CaseID: caseID, At: now, Kind: app.EventRecused, JurorID: jurorID}); err != nil {
		return err
	}
	if err := enqueueTaskClose(ctx, tx, caseID, jurorID, "recused"); err != nil {
		return err
	}
	if !tell {
		return nil
	}
	ev := app.RoundEvent{CaseID: caseID, JurorID: jurorID, Recused: true}
	if err := tx.QueryRow(ctx, `SELECT round FROM cases WHERE id = $1`, caseID).Scan(&ev.Round); err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, app.EffectRoundEvent, ev.Key(), ev)
}

func (r *Repo) RoundState(ctx context.Context, caseID string) (app.RoundState, error) {
	var st app.RoundState
	err := pgx.BeginTxFunc(ctx, r.db, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT status FROM cases WHERE id = $1`, caseID).Scan(&st.Status)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.ErrCaseNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT j.juror_id, j.drawn_at, j.deadline, j.substitute, j.state, coalesce(j.decision, ''), j.recused,
				EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = j.case_id AND e.kind = 'reminded' AND e.juror_id = j.juror_id),
				coalesce(j.reliability_uphold, 0), coalesce(j.reliability_reject, 0)
			FROM case_jurors j WHERE j.case_id = $1 AND j.round = (SELECT round FROM cases WHERE id = $1)
			ORDER BY j.drawn_at, j.juror_id`, caseID)
		if err != nil {
			return err
		}
		st.Seats, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Seat, error) {
			var (
				s     domain.Seat
				state string
			)
			err := row.Scan(&s.JurorID, &s.DrawnAt, &s.Deadline, &s.Substitute, &state, &s.Decision, &s.Recused, &s.Reminded,
				&s.Reliability.Uphold, &s.Reliability.Reject)
			s.Voted, s.Released = state == domain.SeatVoted, state == domain.SeatReleased
			return s, err
		})
		return err
	})
	return st, err
}

// ReleaseJuror releases a juror who has not voted, under the juror row's
// lock, so that a vote and a release never both win.
func (r *Repo) ReleaseJuror(ctx context.Context, caseID, jurorID string, now time.Time) (string, error) {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	var state string
	var decision *string
	err = tx.QueryRow(ctx, `SELECT state, decision FROM case_jurors WHERE case_id = $1 AND juror_id = $2 FOR UPDATE`,
		caseID, jurorID).Scan(&state, &decision)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", app.ErrJurorNotFound
	}
	if err != nil {
		return "", err
	}
	if state == "voted" && decision != nil {
		return *decision, nil
	}
	if state == "drawn" {
		if _, err := tx.Exec(ctx, `UPDATE case_jurors SET state = 'released' WHERE case_id = $1 AND juror_id = $2`, caseID, jurorID); err != nil {
			return "", err
		}
		if err := recordEvent(ctx, tx, app.Event{CaseID: caseID, At: now, Kind: app.EventTimedOut, JurorID: jurorID}); err != nil {
			return "", err
		}
		if err := enqueueTaskClose(ctx, tx, caseID, jurorID, "released"); err != nil {
			return "", err
		}
	}
	return "", tx.Commit(ctx)
}

// RemindJuror records the reminder and its announcement together: the
// timeline never says reminded when nothing will be published.
func (r *Repo) RemindJuror(ctx context.Context, rem app.Reminder, now time.Time) error {
	return pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		if err := recordEvent(ctx, tx, app.Event{CaseID: rem.CaseID, At: now, Kind: app.EventReminded, JurorID: rem.JurorID}); err != nil {
			return err
		}
		// Reminded, the seat next needs its round at its deadline.
		if _, err := tx.Exec(ctx, `UPDATE case_jurors SET wake_at = deadline WHERE case_id = $1 AND juror_id = $2 AND state = 'drawn'`,
			rem.CaseID, rem.JurorID); err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, app.EffectRemind, rem.Key(), rem)
	})
}

// dueWakesSQL picks up to $3 voting cases whose round has something due at
// $1 (a seat's wake_at of the current round, or the case's deadline) and
// has not been woken since it fell due (nor since $2, when a wake was
// sent but the round did not act on it), notes the wake and returns them.
// Replicas skip each other's picks.
const dueWakesSQL = `WITH due AS (
	SELECT j.case_id, j.wake_at AS at FROM case_jurors j JOIN cases c ON c.id = j.case_id AND c.round = j.round
	WHERE j.state = 'drawn' AND j.wake_at IS NOT NULL AND j.wake_at <= $1 AND c.status = 'voting'
	UNION ALL
	SELECT id, deadline FROM cases WHERE status = 'voting' AND deadline <= $1
), first AS (
	SELECT case_id, min(at) AS at FROM due GROUP BY case_id
), picked AS (
	SELECT c.id FROM cases c JOIN first f ON f.case_id = c.id
	WHERE c.status = 'voting' AND (c.woken_at IS NULL OR c.woken_at < f.at OR c.woken_at < $2)
	ORDER BY f.at LIMIT $3 FOR UPDATE OF c SKIP LOCKED
)
UPDATE cases c SET woken_at = $1 FROM picked p WHERE c.id = p.id RETURNING c.id, c.round`

func (r *Repo) DueWakes(ctx context.Context, now time.Time, rewake time.Duration, limit int) ([]app.RoundEvent, error) {
	rows, err := r.db.Query(ctx, dueWakesSQL, now, now.Add(-rewake), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.RoundEvent, error) {
		e := app.RoundEvent{Wake: true}
		err := row.Scan(&e.CaseID, &e.Round)
		return e, err
	})
}

// CloseCase decides the case from the votes recorded in this database (or
// escalates it when the round failed), under an exclusive lock on the case
// row, and enqueues the decision's publication
// in the same transaction: a case that reads closed always has its
// case-decided on the way. A closed case returns what was decided.
func (r *Repo) CloseCase(ctx context.Context, caseID string, round int, now time.Time, failure string) (app.Decision, error) {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return app.Decision{}, err
	}
	defer tx.Rollback(ctx)
	c, d, err := loadDecision(ctx, tx, caseID, true)
	if err == nil && round > 0 && round != c.Round {
		return pastDecision(ctx, tx, c, round)
	}
	if err != nil || domain.Closed(c.Status) {
		return d, err
	}
	if err := decide(ctx, tx, c, &d, now, failure); err != nil {
		return app.Decision{}, err
	}
	return d, tx.Commit(ctx)
}

// decide closes the open case c (locked by tx) with the decision its votes
// (d.Votes) make under its policy, or escalated when the round failed, and
// enqueues the decision's publication and the outcome's notices: what
// closing a case by its jury writes, whether the round's close or the
// quorum vote (RecordVote) does it.
func decide(ctx context.Context, tx pgx.Tx, c app.CaseView, d *app.Decision, now time.Time, failure string) error {
	d.Tally = tallyOf(d.Votes)
	d.Decision, d.DecidedAt = domain.Outcome(d.Tally, c.Policy), now
	var confidence *float64
	if c.Policy.IsAdaptive() {
		status, conf, err := adaptiveOutcome(ctx, tx, c.ID, c.Policy)
		if err != nil {
			return err
		}
		d.Decision, confidence = status, &conf
	}
	if failure != "" {
		d.Decision = domain.StatusEscalated
		if err := recordEvent(ctx, tx, app.Event{CaseID: c.ID, At: now, Kind: app.EventRoundFailed, Detail: failure}); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE cases SET status = $2, decided_at = $3, tally_uphold = $4, tally_reject = $5, confidence = $6,
		pool_wait_at = NULL WHERE id = $1`,
		c.ID, d.Decision, now, d.Tally.Uphold, d.Tally.Reject, confidence); err != nil {
		return err
	}
	if err := recordEvent(ctx, tx, app.Event{CaseID: c.ID, At: now, Kind: app.EventDecided, Detail: d.Decision}); err != nil {
		return err
	}
	ref := app.DecisionRef{CaseID: c.ID, Round: c.Round}
	if err := outbox.Enqueue(ctx, tx, app.EffectPublishDecision, ref.Key(), ref); err != nil {
		return err
	}
	return enqueueOutcome(ctx, tx, app.OutcomeRef{CaseID: c.ID, Round: c.Round, By: domain.DecidedByJury, Decision: d.Decision})
}

// tallyOf counts votes.
func tallyOf(votes []app.Vote) domain.Tally {
	var t domain.Tally
	for _, v := range votes {
		t.Add(v.Decision)
	}
	return t
}

// loadDecision reads the case (locked for update when lock) and its votes;
// for a closed case, d is its recorded decision.
func loadDecision(ctx context.Context, q pgx.Tx, caseID string, lock bool) (app.CaseView, app.Decision, error) {
	query := `SELECT ` + caseColumns + ` FROM cases c WHERE c.id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	c, err := scanCase(q.QueryRow(ctx, query, caseID))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, app.Decision{}, domain.ErrCaseNotFound
	}
	if err != nil {
		return c, app.Decision{}, err
	}
	rows, err := q.Query(ctx, `SELECT juror_id, decision FROM case_jurors
		WHERE case_id = $1 AND round = $2 AND state = 'voted' ORDER BY voted_at, juror_id`, caseID, c.Round)
	if err != nil {
		return c, app.Decision{}, err
	}
	votes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[app.Vote])
	if err != nil {
		return c, app.Decision{}, err
	}
	d := app.Decision{CaseID: caseID, Target: c.Target, Votes: votes, Jurors: c.Jurors,
		Round: c.Round, DecidedBy: c.DecidedBy, ResolvedBy: c.ResolvedBy, Note: c.Note}
	if domain.Closed(c.Status) {
		d.Decision, d.DecidedAt, d.Tally = c.Status, *c.DecidedAt, c.Tally
	}
	return c, d, nil
}

// lockCase takes the case row's lock for the rest of tx and returns its
// status and round; an unknown case is domain.ErrCaseNotFound.
func lockCase(ctx context.Context, tx pgx.Tx, caseID string) (status string, round int, err error) {
	err = tx.QueryRow(ctx, `SELECT status, round FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&status, &round)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, domain.ErrCaseNotFound
	}
	return status, round, err
}

// ResolveCase records a staff decision on an escalated or undecided case
// under the case row's lock and, in the same transaction, the publication
// of the new decision (its own outbox key, so that a jury decision still
// waiting to be published cannot absorb it).
func (r *Repo) ResolveCase(ctx context.Context, caseID, staffID string, res domain.Resolution, now time.Time) (app.CaseView, error) {
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		status, round, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if err := domain.MayResolve(status); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = $2, decided_at = $3, decided_by = 'staff', resolved_by = $4,
				resolution_note = $5 WHERE id = $1`, caseID, res.Status(), now, staffID, res.Note); err != nil {
			return err
		}
		detail := res.Status() + " (was " + status + ")"
		if err := recordEvent(ctx, tx, app.Event{CaseID: caseID, At: now, Kind: app.EventResolved, JurorID: staffID, Detail: detail}); err != nil {
			return err
		}
		ref := app.DecisionRef{CaseID: caseID, Round: round}
		if err := outbox.Enqueue(ctx, tx, app.EffectPublishDecision, ref.StaffKey(), ref); err != nil {
			return err
		}
		return enqueueOutcome(ctx, tx, app.OutcomeRef{CaseID: caseID, Round: round, By: domain.DecidedByStaff, Decision: res.Status()})
	})
	if err != nil {
		return app.CaseView{}, err
	}
	return r.Case(ctx, caseID)
}

func (r *Repo) Decision(ctx context.Context, caseID string, round int) (app.Decision, error) {
	var d app.Decision
	err := pgx.BeginTxFunc(ctx, r.db, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		c, dec, err := loadDecision(ctx, tx, caseID, false)
		if err == nil && round > 0 && round != c.Round {
			d, err = pastDecision(ctx, tx, c, round)
			return err
		}
		if err == nil && !domain.Closed(c.Status) {
			err = fmt.Errorf("decision of case %s: %w", caseID, app.ErrNotClosed)
		}
		d = dec
		return err
	})
	return d, err
}

func (r *Repo) MarkDecisionPublished(ctx context.Context, caseID string, round int, now time.Time) error {
	_, err := r.db.Exec(ctx, `UPDATE cases SET decision_published_at = $2 WHERE id = $1 AND decision_published_at IS NULL
		AND round = $3`, caseID, now, max(round, 1))
	if err != nil {
		return err
	}
	_, err = r.db.Exec(ctx, `UPDATE case_rounds SET published = true WHERE case_id = $1 AND round = $2`, caseID, round)
	return err
}

// repairLock is the advisory lock that keeps the repair loop on one replica.
const repairLock = "report.repair"

// WithRepairLock holds a transaction-scoped advisory lock while f runs (f
// uses the pool, not the transaction): it ends with the transaction, or
// with the connection if this replica dies.
func (r *Repo) WithRepairLock(ctx context.Context, f func(context.Context) error) (bool, error) {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, repairLock).Scan(&locked); err != nil {
		return false, err
	}
	if !locked {
		return false, nil
	}
	return true, f(ctx)
}

func (r *Repo) OpenRounds(ctx context.Context, startedBefore time.Time, limit int) ([]app.OpenRound, error) {
	rows, err := r.db.Query(ctx, `SELECT id, round, policy, created_at, deadline, round_restarts, traceparent FROM cases
		WHERE status IN ('pending', 'voting') AND round_started_at < $1
		ORDER BY round_checked_at NULLS FIRST, created_at LIMIT $2`, startedBefore, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.OpenRound, error) {
		var o app.OpenRound
		err := row.Scan(&o.CaseID, &o.Round, &o.Policy, &o.CreatedAt, &o.Deadline, &o.Restarts, &o.Traceparent)
		return o, err
	})
}

func (r *Repo) MarkRoundChecked(ctx context.Context, caseID string, now time.Time) error {
	_, err := r.db.Exec(ctx, `UPDATE cases SET round_checked_at = $2 WHERE id = $1`, caseID, now)
	return err
}

func (r *Repo) NoteRoundRestart(ctx context.Context, caseID string, now time.Time) error {
	return pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE cases SET round_restarts = round_restarts + 1 WHERE id = $1`, caseID); err != nil {
			return err
		}
		return recordEvent(ctx, tx, app.Event{CaseID: caseID, At: now, Kind: app.EventRoundRestarted})
	})
}

func (r *Repo) UnpublishedDecisions(ctx context.Context, limit int) ([]string, error) {
	rows, err := r.db.Query(ctx, `SELECT c.id FROM cases c
		WHERE c.decided_at IS NOT NULL AND c.decision_published_at IS NULL AND c.status <> 'withdrawn'
		  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedup_key = $1 || c.id || CASE WHEN c.round > 1 THEN ':r' || c.round ELSE '' END
		                  AND o.dead_at IS NULL)
		ORDER BY c.decided_at LIMIT $2`, app.DecisionKeyPrefix, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (r *Repo) EnqueueDecision(ctx context.Context, caseID string) error {
	ref := app.DecisionRef{CaseID: caseID}
	if err := r.db.QueryRow(ctx, `SELECT round FROM cases WHERE id = $1`, caseID).Scan(&ref.Round); err != nil {
		return err
	}
	return outbox.Enqueue(ctx, r.db, app.EffectPublishDecision, ref.Key(), ref)
}

// CaseGauges implements app.CaseGauger.
func (r *Repo) CaseGauges(ctx context.Context) (app.CaseGauges, error) {
	g := app.CaseGauges{Open: map[string]int{}}
	rows, err := r.db.Query(ctx, `SELECT status, count(*), count(*) FILTER (WHERE deadline < now()),
			coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM cases WHERE status IN ('pending', 'voting') GROUP BY status`)
	if err != nil {
		return g, err
	}
	var (
		status        string
		n, past       int
		oldestSeconds float64
	)
	_, err = pgx.ForEachRow(rows, []any{&status, &n, &past, &oldestSeconds}, func() error {
		g.Open[status], g.PastDeadline = n, g.PastDeadline+past
		if status == "pending" {
			g.OldestPendingAge = time.Duration(oldestSeconds * float64(time.Second))
		}
		return nil
	})
	return g, err
}

// WithdrawCase ends an open case without a decision under the case row's
// lock and, in the same transaction, enqueues the compensation: every open
// seat released with its task's close, the round told to end, and the
// case-outcome notices. No case-decided is published, so nobody is paid.
func (r *Repo) WithdrawCase(ctx context.Context, caseID, by string, w domain.Withdrawal, now time.Time) (app.CaseView, error) {
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		status, round, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if err := domain.MayWithdraw(status); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'withdrawn', decided_at = $2, withdrawn_by = $3,
				withdrawal_reason = $4, drawing_until = NULL, pool_wait_at = NULL WHERE id = $1`, caseID, now, by, w.Reason); err != nil {
			return err
		}
		if err := releaseOpenSeats(ctx, tx, caseID); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, app.Event{CaseID: caseID, At: now, Kind: app.EventWithdrawn, JurorID: by, Detail: w.Reason}); err != nil {
			return err
		}
		ev := app.RoundEvent{CaseID: caseID, Withdrawn: true, Round: round}
		if err := outbox.Enqueue(ctx, tx, app.EffectRoundEvent, ev.Key(), ev); err != nil {
			return err
		}
		return enqueueOutcome(ctx, tx, app.OutcomeRef{CaseID: caseID, Round: round, By: app.OutcomeByWithdrawal, Decision: domain.StatusWithdrawn})
	})
	if err != nil {
		return app.CaseView{}, err
	}
	return r.Case(ctx, caseID)
}

// releaseOpenSeats releases every juror of the case who has not voted and
// enqueues the close of their tasks as "withdrawn" (not a timeout).
func releaseOpenSeats(ctx context.Context, tx pgx.Tx, caseID string) error {
	rows, err := tx.Query(ctx, `UPDATE case_jurors SET state = 'released' WHERE case_id = $1 AND state = 'drawn'
		RETURNING juror_id`, caseID)
	if err != nil {
		return err
	}
	released, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, j := range released {
		if err := enqueueTaskClose(ctx, tx, caseID, j, "withdrawn"); err != nil {
			return err
		}
	}
	return nil
}

func enqueueOutcome(ctx context.Context, tx pgx.Tx, ref app.OutcomeRef) error {
	return outbox.Enqueue(ctx, tx, app.EffectNotifyOutcome, ref.Key(), ref)
}

// adaptiveOutcome decides an adaptive case from its recorded votes, each
// weighed by the reliability its juror was drawn with
// (domain.AdaptiveOutcome), and returns the confidence reached.
func adaptiveOutcome(ctx context.Context, tx pgx.Tx, caseID string, p domain.Policy) (string, float64, error) {
	rows, err := tx.Query(ctx, `SELECT decision, coalesce(reliability_uphold, 0), coalesce(reliability_reject, 0)
		FROM case_jurors WHERE case_id = $1 AND state = 'voted' AND round = (SELECT round FROM cases WHERE id = $1)
		ORDER BY voted_at, juror_id`, caseID)
	if err != nil {
		return "", 0, err
	}
	ballots, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Ballot, error) {
		var s domain.Seat
		err := row.Scan(&s.Decision, &s.Reliability.Uphold, &s.Reliability.Reject)
		return domain.Ballot{Vote: s.Decision, Reliability: domain.ReliabilityOf(s)}, err
	})
	if err != nil {
		return "", 0, err
	}
	status, conf := domain.AdaptiveOutcome(p, ballots)
	return status, conf, nil
}
