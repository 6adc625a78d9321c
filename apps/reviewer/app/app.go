// Package app holds the reviewer service's use cases. Storage and messaging
// are reached through the interfaces declared here.
package app

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/govern/reviewer/domain"
)

// Repository stores profiles, jurors, settings, draws and tasks.
type Repository interface {
	// UpsertProfile stores p and makes the user an active juror unless a juror
	// row exists already.
	UpsertProfile(ctx context.Context, p domain.Profile) (domain.Profile, error)
	// RecordActivity moves last_active_at forward to at (never backwards),
	// creating an untagged profile and active juror when the user is new.
	RecordActivity(ctx context.Context, userID string, at time.Time) error
	// Reviewer returns the juror with profile, stats and the most recent
	// transitions; domain.ErrReviewerNotFound for a user never seen.
	Reviewer(ctx context.Context, userID string) (domain.Reviewer, error)
	// ChangeState applies c if c.Allowed the juror's current state, records
	// the transition and returns it; changed is false when the juror already
	// was in c.To. until is the end of a suspension, if it has one.
	ChangeState(ctx context.Context, c domain.StateChange, until *time.Time) (tr domain.Transition, changed bool, err error)
	// OpenTasks lists the juror's open tasks oldest first, starting after
	// the cursor (nil for the first page).
	OpenTasks(ctx context.Context, jurorID string, after *TaskCursor, limit int) ([]domain.Task, error)
	// OpenTask returns one open task; domain.ErrTaskNotFound when it is not open.
	OpenTask(ctx context.Context, caseID, jurorID string) (domain.Task, error)
	// StoredSettings returns every setting an operator saved.
	StoredSettings(ctx context.Context) ([]Setting, error)
	// SaveSetting stores a setting (notifying every replica's sidecar) and
	// returns its new version.
	SaveSetting(ctx context.Context, key string, value []byte) (int64, error)
	// DrawJury serves req in one transaction: it returns the stored draw when
	// req.DrawID was served before (created false); otherwise it draws
	// req.Size jurors eligible under sel, enforcing sel.Fatigue against
	// concurrent draws, and records the draw with one open task per juror
	// and its AnnouncementFor in the outbox (kind OutboxTaskAssigned).
	DrawJury(ctx context.Context, req domain.DrawRequest, sel Selection) (d domain.Draw, created bool, err error)
	// CloseTask closes one open task; closing a closed task changes nothing.
	// It returns domain.ErrTaskNotFound when the task never existed.
	CloseTask(ctx context.Context, caseID, jurorID string, reason domain.CloseReason) error
	// RecordDecision settles every task of a decided case once: a repeated
	// decision changes nothing and returns applied false.
	RecordDecision(ctx context.Context, r domain.CaseResult) (applied bool, err error)
	// Adjust applies rule: it restores jurors whose suspension has ended and
	// suspends active jurors whose recent record fails the rule, judging
	// only jurors with a task settled after since (their record cannot have
	// changed otherwise). It returns the transitions it recorded; ran is
	// false when another replica was adjusting at the same moment.
	Adjust(ctx context.Context, rule domain.AdjustmentRule, since time.Time) (done []Adjustment, ran bool, err error)
}

// Adjustment is one automatic state change.
type Adjustment struct {
	UserID string
	domain.Transition
}

// Selection is what a draw needs besides the request: the rules in force and
// the source of randomness.
type Selection struct {
	Rule    domain.PoolRule
	Fatigue domain.Fatigue
	Rand    *rand.Rand
}

// TaskCursor marks the last task of a page.
type TaskCursor struct {
	CreatedAt time.Time `json:"t"`
	CaseID    string    `json:"c"`
}

// TaskAssigned is published once per drawn juror.
type TaskAssigned struct {
	CaseID   string    `json:"case_id"`
	JurorID  string    `json:"juror_id"`
	Deadline time.Time `json:"deadline"`
}

// Publisher announces integration events.
type Publisher interface {
	TaskAssigned(ctx context.Context, e TaskAssigned) error
}

// Service runs the use cases.
type Service struct {
	repo     Repository
	pub      Publisher
	log      *slog.Logger
	now      func() time.Time
	newRand  func() *rand.Rand
	wake     func()
	Settings *Settings
	Tasks    *TaskHub
	// GoldRepo and GoldSeats serve gold cases (gold.go); without them no
	// gold is offered.
	GoldRepo  GoldRepository
	GoldSeats GoldSeats
}

// New returns the service with the real clock, a cryptographically seeded
// random source per draw, default settings and no stream subscribers (with
// the default stream caps). wakeOutbox is called after each commit that
// enqueued an outbox effect.
func New(repo Repository, pub Publisher, log *slog.Logger, wakeOutbox func()) *Service {
	return &Service{repo: repo, pub: pub, log: log, now: time.Now, newRand: seededRand, wake: wakeOutbox,
		Settings: NewSettings(), Tasks: NewTaskHub(DefaultStreamsPerUser, DefaultStreamsPerReplica)}
}

func seededRand() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails on supported platforms
	return rand.New(rand.NewChaCha8(seed))
}

// seedFrom is used by tests to make draws reproducible.
func seedFrom(n uint64) func() *rand.Rand {
	return func() *rand.Rand {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], n)
		return rand.New(rand.NewChaCha8(seed))
	}
}
