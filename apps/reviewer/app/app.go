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

// Repository stores profiles, jurors, draws and tasks.
type Repository interface {
	// UpsertProfile stores p and makes the user an active juror unless a juror
	// row exists already.
	UpsertProfile(ctx context.Context, p domain.Profile) (domain.Profile, error)
	// RecordActivity moves last_active_at forward to at (never backwards),
	// creating an untagged profile and active juror when the user is new.
	RecordActivity(ctx context.Context, userID string, at time.Time) error
	// Reviewer returns domain.ErrReviewerNotFound for a user never seen.
	Reviewer(ctx context.Context, userID string) (domain.Reviewer, error)
	// OpenTasks lists the juror's open tasks oldest first, starting after
	// the cursor (nil for the first page).
	OpenTasks(ctx context.Context, jurorID string, after *TaskCursor, limit int) ([]domain.Task, error)
	PoolRule(ctx context.Context) (domain.PoolRule, error)
	SetPoolRule(ctx context.Context, rule domain.PoolRule) error
	// DrawJury serves req in one transaction: it returns the stored draw when
	// req.DrawID was served before (created false); otherwise it lists the
	// eligible jurors under the current pool rule, lets pick choose among
	// them, and records the draw with one open task per juror.
	DrawJury(ctx context.Context, req domain.DrawRequest, pick Picker) (d domain.Draw, created bool, err error)
	// CloseTask closes one open task; closing a closed task changes nothing.
	// It returns domain.ErrTaskNotFound when the task never existed.
	CloseTask(ctx context.Context, caseID, jurorID string, reason domain.CloseReason) error
	// CloseCaseTasks closes every open task of the case and reports how many.
	CloseCaseTasks(ctx context.Context, caseID string, reason domain.CloseReason) (int, error)
}

// Picker chooses the jury among the eligible candidates.
type Picker func(eligible []string) ([]string, error)

// TaskCursor marks the last task of a page.
type TaskCursor struct {
	CreatedAt time.Time
	CaseID    string
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
	repo    Repository
	pub     Publisher
	log     *slog.Logger
	now     func() time.Time
	newRand func() *rand.Rand
}

// New returns the service with the real clock and a cryptographically seeded
// random source per draw.
func New(repo Repository, pub Publisher, log *slog.Logger) *Service {
	return &Service{repo: repo, pub: pub, log: log, now: time.Now, newRand: seededRand}
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
