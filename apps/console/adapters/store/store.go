// Package store reads, read-only, what no app's API serves: the juror pool
// (the reviewer database's jurors and profiles), outbox effects set aside as
// dead in each app's database, and the dead-letter topics on the broker
// (Redis streams locally).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// DeadLetterTopics are the topics a message that can never be processed
// goes to (components/subscriptions.yaml and the report intake).
var DeadLetterTopics = []string{"reports-dead-letter", "dead-letter"}

// Store holds the read-only connections. A nil pool or client means that
// source is not configured; its section says so.
type Store struct {
	DBs   map[string]*pgxpool.Pool // by app
	Redis *redis.Client
}

// Open prepares the pools and the Redis client; nothing is dialled until a
// page needs it, so the console starts while a database is down.
func Open(dsns map[string]string, redisAddr string) (*Store, error) {
	s := &Store{DBs: map[string]*pgxpool.Pool{}}
	for app, dsn := range dsns {
		if dsn == "" {
			continue
		}
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("database URL of %s: %w", app, err)
		}
		cfg.MaxConns = 4
		// Read-only by the session's default: the console never writes.
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return nil, fmt.Errorf("database of %s: %w", app, err)
		}
		s.DBs[app] = pool
	}
	if redisAddr != "" {
		s.Redis = redis.NewClient(&redis.Options{Addr: redisAddr, DialTimeout: 2 * time.Second, ReadTimeout: 3 * time.Second})
	}
	return s, nil
}

// Close releases every connection.
func (s *Store) Close() {
	for _, p := range s.DBs {
		p.Close()
	}
	if s.Redis != nil {
		_ = s.Redis.Close()
	}
}

// ErrNotConfigured is a source the console was started without.
var ErrNotConfigured = errors.New("not configured")

// Juror is one member of the juror pool as the reviewer database holds it.
type Juror struct {
	UserID       string
	State        string
	Tags         []string
	LastActiveAt time.Time
	Assigned     int
	Voted        int
	Agreed       int
	TimedOut     int
	OpenTasks    int
}

// PoolFilter selects jurors; After is the paging position (a user id).
type PoolFilter struct {
	State string
	After string
	Limit int
}

// Pool lists jurors in user id order, one page; next is the position of the
// following page ("" on the last).
func (s *Store) Pool(ctx context.Context, f PoolFilter) (items []Juror, next string, err error) {
	db := s.DBs["reviewer"]
	if db == nil {
		return nil, "", fmt.Errorf("reviewer database: %w", ErrNotConfigured)
	}
	rows, err := db.Query(ctx, `SELECT j.user_id, j.state, p.tags, p.last_active_at, j.assigned, j.voted, j.agreed, j.timed_out,
		(SELECT count(*) FROM tasks t WHERE t.juror_id = j.user_id AND t.status = 'open')
		FROM jurors j JOIN profiles p USING (user_id)
		WHERE ($1 = '' OR j.state = $1) AND j.user_id > $2
		ORDER BY j.user_id LIMIT $3`, f.State, f.After, f.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list juror pool: %w", err)
	}
	items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Juror, error) {
		var j Juror
		err := r.Scan(&j.UserID, &j.State, &j.Tags, &j.LastActiveAt, &j.Assigned, &j.Voted, &j.Agreed, &j.TimedOut, &j.OpenTasks)
		return j, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list juror pool: %w", err)
	}
	if len(items) > f.Limit {
		items = items[:f.Limit]
		next = items[len(items)-1].UserID
	}
	return items, next, nil
}

// PoolCounts is the number of jurors in each state.
func (s *Store) PoolCounts(ctx context.Context) (map[string]int, error) {
	db := s.DBs["reviewer"]
	if db == nil {
		return nil, fmt.Errorf("reviewer database: %w", ErrNotConfigured)
	}
	out := map[string]int{}
	rows, err := db.Query(ctx, `SELECT state, count(*)::int FROM jurors GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count juror pool: %w", err)
	}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { out[state] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count juror pool: %w", err)
	}
	return out, nil
}

// DeadEffect is an outbox row set aside because its effect can never succeed.
type DeadEffect struct {
	App       string
	ID        int64
	Kind      string
	Key       string
	Payload   string
	CreatedAt time.Time
	DeadAt    time.Time
	Attempts  int
	LastError string
}

// DeadEffects lists app's set-aside outbox rows, newest first (at most limit).
func (s *Store) DeadEffects(ctx context.Context, app string, limit int) ([]DeadEffect, error) {
	db := s.DBs[app]
	if db == nil {
		return nil, fmt.Errorf("%s database: %w", app, ErrNotConfigured)
	}
	rows, err := db.Query(ctx, `SELECT id, kind, dedup_key, payload::text, created_at, dead_at, attempts, last_error
		FROM outbox WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead outbox rows of %s: %w", app, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadEffect, error) {
		d := DeadEffect{App: app}
		err := r.Scan(&d.ID, &d.Kind, &d.Key, &d.Payload, &d.CreatedAt, &d.DeadAt, &d.Attempts, &d.LastError)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dead outbox rows of %s: %w", app, err)
	}
	return out, nil
}

// DeadLetter is one message on a dead-letter topic.
type DeadLetter struct {
	Topic   string
	ID      string // the stream entry id
	At      time.Time
	EventID string // the CloudEvent's id
	From    string // the topic it was published on, when the envelope says
	Reason  string
	Data    string
}

// DeadLetters returns the newest messages (at most limit) of topic and how
// many it holds in all.
func (s *Store) DeadLetters(ctx context.Context, topic string, limit int64) ([]DeadLetter, int64, error) {
	if s.Redis == nil {
		return nil, 0, fmt.Errorf("broker: %w", ErrNotConfigured)
	}
	total, err := s.Redis.XLen(ctx, topic).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", topic, err)
	}
	msgs, err := s.Redis.XRevRangeN(ctx, topic, "+", "-", limit).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", topic, err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, decodeDeadLetter(topic, m.ID, m.Values["data"]))
	}
	return out, total, nil
}

// decodeDeadLetter reads a stream entry: a CloudEvent whose data is the
// report intake's {reason, event_id, message} envelope or the message a
// consumer dropped as it was.
func decodeDeadLetter(topic, id string, raw any) DeadLetter {
	d := DeadLetter{Topic: topic, ID: id}
	if ms, _, ok := strings.Cut(id, "-"); ok {
		if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
			d.At = time.UnixMilli(n).UTC()
		}
	}
	data, _ := raw.(string)
	var ce struct {
		ID    string          `json:"id"`
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
	}
	if json.Unmarshal([]byte(data), &ce) != nil {
		d.Data = data
		return d
	}
	d.EventID, d.From, d.Data = ce.ID, ce.Topic, string(ce.Data)
	var env struct {
		Reason  string `json:"reason"`
		EventID string `json:"event_id"`
		Message string `json:"message"`
	}
	if json.Unmarshal(ce.Data, &env) == nil && env.Reason != "" {
		d.Reason, d.Data = env.Reason, env.Message
		if env.EventID != "" {
			d.EventID = env.EventID
		}
	}
	return d
}
