// Package app holds the report service's use cases. It speaks to storage, the
// workflow engine, the reviewer service and the outbox through the interfaces
// declared here; adapters implement them.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/loop"
	"github.com/govern/kit/telemetry"
	"github.com/govern/kit/text"
	"github.com/govern/report/domain"
)

// Receipt is what a reporter gets back for a report.
type Receipt struct {
	ReportID string `json:"report_id"`
	CaseID   string `json:"case_id"`
	Status   string `json:"status"`
}

// Filed is what filing a report did.
type Filed struct {
	Receipt
	// NewCase: the report opened the case.
	NewCase bool
	// Recused: the reporter was a juror of the open case they joined, and
	// was recused (their seat is to be filled by a substitute).
	Recused bool
}

// ReportView is a stored report with its case's status.
type ReportView struct {
	ID        string
	Report    domain.Report
	CaseID    string
	Status    string
	CreatedAt time.Time
}

// Vote is one juror's recorded vote.
type Vote struct {
	JurorID  string `json:"juror_id"`
	Decision string `json:"decision"`
}

// CaseView is a case as queries show it.
type CaseView struct {
	ID          string
	Target      domain.Target
	Reason      string
	Status      string
	Policy      domain.Policy
	ReportCount int
	VotesCast   int
	Deadline    time.Time
	CreatedAt   time.Time
	DecidedAt   *time.Time
	Tally       domain.Tally
	Jurors      []string
	Timeline    []Event
	// Round is the case's current round (1, 2 once appealed); DecidedBy
	// says who made its decision (jury or staff), ResolvedBy and Note the
	// operator and their note for a staff decision.
	Round      int
	DecidedBy  string
	ResolvedBy string
	Note       string
	// WithdrawnBy and WithdrawalReason: who withdrew a withdrawn case, and why.
	WithdrawnBy      string
	WithdrawalReason string
	// Confidence is, for a case closed by an adaptive jury, the posterior
	// that its decision is right.
	Confidence *float64
	// Rounds are the rounds an appeal replaced, the first first (loaded
	// for single cases); Appeal is the case's appeal, if any.
	Rounds []RoundView
	Appeal *AppealView
}

// Event is one entry of a case's timeline.
type Event struct {
	CaseID  string    `json:"-"`
	At      time.Time `json:"at"`
	Kind    string    `json:"event"`
	JurorID string    `json:"juror_id,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	// Round is the round the event belongs to (2: the appeal round).
	Round int `json:"round"`
}

// Timeline event kinds.
const (
	EventDrawn        = "drawn"
	EventReminded     = "reminded"
	EventTimedOut     = "timed_out"
	EventSubstituted  = "substituted"
	EventVoted        = "voted"
	EventDecided      = "decided"
	EventPoolTooSmall = "pool_too_small"
	// EventRecused: the juror reported the target and was released.
	EventRecused = "recused"
	// EventRoundFailed: the round could not go on (detail: why); the case
	// closes as escalated.
	EventRoundFailed = "round_failed"
	// EventRoundRestarted: the repair loop found the case open without a
	// live round and started it again.
	EventRoundRestarted = "round_restarted"
	// EventResolved: an operator decided the case (juror_id: the operator,
	// detail: the new and the former status).
	EventResolved = "resolved"
	// EventWithdrawn: the case was withdrawn (juror_id: who withdrew it,
	// detail: the reason).
	EventWithdrawn = "withdrawn"
)

// VersionedPolicy is a stored policy and its version.
type VersionedPolicy struct {
	Policy  domain.Policy
	Version int64
}

// CaseFilter selects cases for listing; zero fields match everything.
type CaseFilter struct {
	Status        string
	Kind          string
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Limit         int
	Cursor        string
}

// RoundInput starts a case's vote round; it is the workflow's input.
type RoundInput struct {
	CaseID string `json:"case_id"`
	// Round is 1 for the first jury (also when absent) and 2 for the
	// appeal's, which runs as a workflow instance of its own.
	Round     int           `json:"round,omitempty"`
	Policy    domain.Policy `json:"policy"`
	CreatedAt time.Time     `json:"created_at"`
	Deadline  time.Time     `json:"deadline"`
	// PoolRetry is how a round backs off while the pool cannot serve a draw:
	// Initial doubling to Max. It is fixed when the round starts, so that
	// replaying the workflow always computes the same waits.
	PoolRetry PoolRetry `json:"pool_retry"`
	// PoolWaits counts the waits for the pool so far; the round carries it
	// over when it continues as new, to keep backing off.
	PoolWaits int `json:"pool_waits,omitempty"`
	// Traceparent is the W3C trace context the round's activities run in
	// (the round start's span, a child of the report that opened the case):
	// the durable task engine keeps no trace across timers and events, so
	// the trace rides in the input and in every activity's input.
	Traceparent string `json:"traceparent,omitempty"`
	// Shape is the version of the round's steps the workflow runs (0 for
	// rounds started before there were versions). It is fixed when the round
	// starts and kept across continue-as-new, so that replaying a history
	// always takes the steps that wrote it.
	Shape int `json:"shape,omitempty"`
}

// PoolRetry is a capped doubling back-off.
type PoolRetry struct {
	Initial domain.Duration `json:"initial"`
	Max     domain.Duration `json:"max"`
}

// DefaultPoolRetry: 5 s doubling to 5 min, so a case waiting 72 h for
// jurors asks about 900 times, not 50,000.
var DefaultPoolRetry = PoolRetry{Initial: domain.Duration(5 * time.Second), Max: domain.Duration(5 * time.Minute)}

// JuryRequest is what the reviewer service needs to draw jurors for a case.
type JuryRequest struct {
	DrawID   string        `json:"draw_id"`
	CaseID   string        `json:"case_id"`
	Size     int           `json:"size"`
	Exclude  []string      `json:"exclude"`
	Target   domain.Target `json:"target"`
	Reason   string        `json:"reason"`
	Deadline time.Time     `json:"deadline"`
	// Round is the round the jury is drawn for (absent: 1).
	Round int `json:"round,omitempty"`
}

// Decision is a closed case as published on the case-decided topic.
type Decision struct {
	CaseID    string        `json:"case_id"`
	Target    domain.Target `json:"target"`
	Decision  string        `json:"decision"`
	DecidedAt time.Time     `json:"decided_at"`
	Tally     domain.Tally  `json:"tally"`
	Votes     []Vote        `json:"votes"`
	Jurors    []string      `json:"jurors"`
	// Round is the round the decision closes (1 for the first jury);
	// consumers deduplicate by (case_id, round, decided_by).
	Round int `json:"round"`
	// DecidedBy is "jury", or "staff" for an operator's decision of an
	// escalated or undecided case (votes and tally stay the jury's).
	DecidedBy  string `json:"decided_by"`
	ResolvedBy string `json:"resolved_by,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Voted is what recording a vote did: the vote's hand-over to its round
// (the event the transaction put in the outbox) and, when the vote decided
// the case, the decision (nil otherwise) and when the case was opened (for
// the round-age histogram, without reading the case again).
type Voted struct {
	Event         RoundEvent
	Decided       *Decision
	CaseCreatedAt time.Time
}

// ErrPoolTooSmall means the reviewer service has too few eligible jurors now.
var ErrPoolTooSmall = errors.New("juror pool too small")

// Repository is the report database.
type Repository interface {
	// StoredPolicies returns every policy an operator set, with its version.
	StoredPolicies(ctx context.Context) ([]VersionedPolicy, error)
	// SavePolicy stores p (notifying every replica's sidecar) and returns its version.
	SavePolicy(ctx context.Context, p domain.Policy) (int64, error)
	// ReportByKey returns the receipt and fingerprint of the report reporterID
	// filed under an idempotency key ("" for reports filed before fingerprints).
	ReportByKey(ctx context.Context, reporterID, key string) (rc Receipt, fingerprint string, found bool, err error)
	// FileReport stores a report, joining the target's open case or opening a
	// new one with policy (an empty receipt: another request won the key).
	// Under a daily cap above zero, a reporter who already filed cap reports
	// since the UTC day began gets a *domain.DailyCapError and nothing is stored.
	FileReport(ctx context.Context, key string, r domain.Report, policy domain.Policy, cap int, now time.Time) (Filed, error)
	// StoredSetting returns the raw value and version of a setting (found
	// false if no operator set it).
	StoredSetting(ctx context.Context, key string) (value []byte, version int64, found bool, err error)
	// SaveSetting stores a setting (notifying every replica's sidecar) and
	// returns its version.
	SaveSetting(ctx context.Context, key string, value []byte) (int64, error)
	Report(ctx context.Context, id string) (ReportView, error)
	// ReporterCounts returns how many reports reporterID filed and how many
	// of their cases ended upheld and rejected.
	ReporterCounts(ctx context.Context, reporterID string) (filed, upheld, rejected int, err error)
	Case(ctx context.Context, id string) (CaseView, error)
	ListCases(ctx context.Context, f CaseFilter) (items []CaseView, next string, err error)
	// Voter returns the case's status and whether jurorID was drawn for it
	// (ErrCaseNotFound for an unknown case), in one query: it is on every vote.
	// drawing says a substitute draw of the case is under way.
	Voter(ctx context.Context, caseID, jurorID string) (status string, drawn, drawing bool, err error)
	// MarkDrawing notes that a substitute draw of the case runs until until
	// at the latest; SaveJury ends it.
	MarkDrawing(ctx context.Context, caseID string, until time.Time) error
	// RecordVote stores the vote and, in the same transaction, the effects
	// it causes, both held back for VoteHandOverDelay: handing it to the
	// round (EffectRoundEvent) and closing the juror's task (EffectCloseTask).
	// A vote that brings a side of a fixed-size jury to the quorum also
	// closes the case in that transaction, as CloseCase would (the round
	// learns it from the vote's event).
	RecordVote(ctx context.Context, caseID, jurorID, decision, comment string, now time.Time) (Voted, error)
	// ForgetEffect drops a pending effect that was carried out directly.
	ForgetEffect(ctx context.Context, key string) error
	RoundsNotStarted(ctx context.Context, createdBefore time.Time, limit int) ([]RoundInput, error)
	MarkRoundStarted(ctx context.Context, caseID string, now time.Time) error
	// Reporters lists up to limit of the case's reporters, the earliest first.
	Reporters(ctx context.Context, caseID string, limit int) ([]string, error)
	// SaveJury records jurors drawn at drawnAt (substitute: replacing a
	// released juror) and moves a pending case to voting. A drawn juror who
	// reported the target is recorded recused (released, their task closed
	// through the outbox) and returned in recused.
	// rel is each juror's reliability as the reviewer estimated it.
	SaveJury(ctx context.Context, caseID string, jurors []string, rel map[string]domain.Reliability, t domain.SeatTimes, substitute bool) (recused []string, err error)
	// RoundState returns the case's status and every seat drawn for it.
	RoundState(ctx context.Context, caseID string) (RoundState, error)
	// ReleaseJuror releases a juror who has not voted, closing their task
	// (EffectCloseTask) in the same transaction; if the juror voted after
	// all, it returns that vote instead.
	ReleaseJuror(ctx context.Context, caseID, jurorID string, now time.Time) (vote string, err error)
	// RecordEvent adds to the case's timeline (once per case, kind and juror).
	RecordEvent(ctx context.Context, e Event) error
	// RemindJuror records the reminder on the timeline and its announcement
	// (EffectRemind) in one transaction.
	RemindJuror(ctx context.Context, r Reminder, now time.Time) error
	// DueWakes returns up to limit voting cases whose round has something
	// due by now (a seat's reminder or deadline, the round's deadline) and
	// was not woken since, or not within rewake, noting the wake (as
	// RoundEvents with Wake set).
	DueWakes(ctx context.Context, now time.Time, rewake time.Duration, limit int) ([]RoundEvent, error)
	// CloseCase closes the case from the votes it holds (as escalated, with
	// a round_failed event, when failure is not empty) and enqueues the
	// decision's publication (EffectPublishDecision) in the same
	// transaction; a closed case returns its recorded decision. A round
	// (0: the current one) an appeal has replaced returns its decision.
	CloseCase(ctx context.Context, caseID string, round int, now time.Time, failure string) (Decision, error)
	// Decision returns the decision of the case's round (0: the current
	// one; ErrNotClosed while it is open); an appeal keeps the decision
	// of the round it replaced.
	Decision(ctx context.Context, caseID string, round int) (Decision, error)
	// MarkDecisionPublished records that the round's case-decided is on its way.
	MarkDecisionPublished(ctx context.Context, caseID string, round int, now time.Time) error
	// Appeal records caller's appeal of a decided case under the case
	// row's lock (domain.MayAppeal decides; a second appeal meets a unique
	// constraint) and, in the same transaction, opens the appeal round:
	// the case is pending again in round 2, under policy, until its round
	// starter starts the round's workflow.
	Appeal(ctx context.Context, caseID, caller string, a domain.Appeal, now time.Time) (AppealView, error)
	// ResolveCase gives an escalated or undecided case the staff's decision
	// (domain.ErrNotResolvable otherwise) and enqueues its publication in
	// the same transaction.
	ResolveCase(ctx context.Context, caseID, staffID string, r domain.Resolution, now time.Time) (CaseView, error)
	// WithdrawCase ends an open case as withdrawn (domain.ErrNotWithdrawable
	// otherwise), releasing its open seats, and enqueues in the same
	// transaction the close of their tasks, the round's end and the notices.
	WithdrawCase(ctx context.Context, caseID, by string, w domain.Withdrawal, now time.Time) (CaseView, error)
	Repairs
	PoolQueue
}

// PoolQueue is what drawing juries in reporter-credibility order needs from
// the report database.
type PoolQueue interface {
	// PoolQueueHead returns the pending case ranked first among those other
	// than caseID that the pool refused since since and need at most need
	// jurors (found false if none does).
	PoolQueueHead(ctx context.Context, caseID string, need int, since time.Time) (head domain.WaitingCase, found bool, err error)
	// ReporterCredibility sums the credibility of the case's reporters.
	ReporterCredibility(ctx context.Context, caseID string, prior domain.CredibilityPrior) (float64, error)
	// MarkPoolWait records that the pool refused the pending case at at,
	// with its rank and the jurors it needs; a jury drawn or the case
	// closed clears it.
	MarkPoolWait(ctx context.Context, caseID string, at time.Time, rank float64, need int) error
	// Rerank replaces the rank a waiting case was stamped with (its
	// refusal time stays), once its reporters' record has changed.
	Rerank(ctx context.Context, caseID string, rank float64) error
}

// RoundStatus is what the workflow engine knows of a case's round.
type RoundStatus int

const (
	// RoundMissing: no such workflow (never started, or purged).
	RoundMissing RoundStatus = iota
	// RoundAlive: running, pending or suspended.
	RoundAlive
	// RoundEnded: completed, failed or terminated.
	RoundEnded
)

// Rounds is the workflow engine that runs one vote round per case.
type Rounds interface {
	// Start starts the case's round; a round that ended is replaced.
	Start(ctx context.Context, in RoundInput) error
	Status(ctx context.Context, caseID string, round int) (RoundStatus, error)
	// Raise hands a vote or a recusal to the case's round.
	Raise(ctx context.Context, e RoundEvent) error
}

// Reviewer is the reviewer service.
type Reviewer interface {
	// DrawJury draws req.Size jurors and returns them with each one's
	// estimated reliability (missing for a reviewer that gave none).
	DrawJury(ctx context.Context, req JuryRequest) ([]string, map[string]domain.Reliability, error)
	CloseTask(ctx context.Context, caseID, jurorID, reason string) error
}

// DecisionPublisher publishes case-decided. It is only ever called by the
// outbox relay: the decision and the promise to publish it commit together
// in the report database (kit/outbox), so a publication is never lost.
type DecisionPublisher interface {
	PublishDecision(ctx context.Context, d Decision) error
}

// Notifier tells jurors about their tasks (for mobile push).
type Notifier interface {
	Reminded(ctx context.Context, caseID, jurorID string, deadline time.Time) error
	// Outcome publishes one case-outcome notice (only ever called by the
	// outbox relay).
	Outcome(ctx context.Context, n Notice) error
}

// Service implements the use cases.
type Service struct {
	Repo      Repository
	Rounds    Rounds
	Reviewer  Reviewer
	Publisher DecisionPublisher
	Notifier  Notifier
	Effects   Effects
	// Gold stores gold cases and GoldPeers carries their effects (gold.go).
	Gold      GoldRepository
	GoldPeers GoldPeers
	Policies  *PolicyCache
	// RoundsDue wakes the round starter when a report opened a case.
	RoundsDue chan struct{}
	PoolRetry PoolRetry
	Log       *slog.Logger
	Now       func() time.Time
	// OverdueAfter is how long past its deadline an open case may stay open
	// before the repair loop closes it (default OverdueMargin).
	OverdueAfter time.Duration
	// intake counts filed reports, for the round starter's pace.
	intake intakeMeter
}

// Policy returns the current policy for kind.
func (s *Service) Policy(kind string) (domain.Policy, error) {
	if !domain.ValidKind(kind) {
		return domain.Policy{}, fmt.Errorf("%w: unknown kind %q", domain.ErrInvalidPolicy, kind)
	}
	return s.Policies.Get(kind), nil
}

// ChangePolicy validates and stores p. The replica that answers applies it
// at once; every other replica gets it from its sidecar's configuration
// subscription. Rounds already running keep the policy they started with.
func (s *Service) ChangePolicy(ctx context.Context, p domain.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	version, err := s.Repo.SavePolicy(ctx, p)
	if err != nil {
		return fmt.Errorf("save policy %s: %w", p.Kind, err)
	}
	s.Policies.Apply(p, version)
	s.Log.Info("policy changed", "kind", p.Kind, "version", version, "jury_size", p.JurySize, "quorum", p.Quorum)
	return nil
}

// ReloadPolicies reads every stored policy into the cache.
func (s *Service) ReloadPolicies(ctx context.Context) error {
	stored, err := s.Repo.StoredPolicies(ctx)
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	for _, vp := range stored {
		s.Policies.Apply(vp.Policy, vp.Version)
	}
	raw, version, found, err := s.Repo.StoredSetting(ctx, KeyIntakeLimits)
	if err != nil {
		return fmt.Errorf("load %s: %w", KeyIntakeLimits, err)
	}
	if found {
		if _, err := s.Policies.Live().Apply(KeyIntakeLimits, raw, version); err != nil {
			s.Log.Warn("stored setting refused; keeping the current one", "key", KeyIntakeLimits, "err", err)
		}
	}
	return nil
}

// SubmitReport files r. An idempotency key the reporter used before returns
// the first receipt (replayed=true) without any other check, or
// ErrIdempotencyKeyReused if the report differs. Keys are the reporter's own:
// another reporter's key files a report of its own. A new case gets its
// round started.
func (s *Service) SubmitReport(ctx context.Context, key string, r domain.Report) (rc Receipt, replayed bool, err error) {
	if key != "" && text.ID("reporter_id", r.ReporterID) == nil {
		if rc, ok, err := s.replay(ctx, key, r); err != nil || ok {
			return rc, ok, err
		}
	}
	if err := r.Validate(); err != nil {
		return Receipt{}, false, err
	}
	policy, err := s.Policy(r.Target.Kind)
	if err != nil {
		return Receipt{}, false, err
	}
	now := s.Now().UTC()
	filed, err := s.Repo.FileReport(ctx, key, r, policy, s.Policies.DailyReportCap(), now)
	if errors.Is(err, domain.ErrAlreadyReported) && key != "" {
		// Two deliveries of one message (or two retries of one request)
		// raced past the key look-up: the one-report-per-reporter rule
		// fired before the key's. The earlier one is this report.
		if rc, ok, rerr := s.replay(ctx, key, r); rerr != nil || ok {
			return rc, ok, rerr
		}
	}
	if err != nil {
		return Receipt{}, false, err
	}
	rc, newCase := filed.Receipt, filed.NewCase
	if rc.ReportID == "" { // lost a race on the same idempotency key
		rc, ok, err := s.replay(ctx, key, r)
		if err == nil && !ok {
			err = fmt.Errorf("report under idempotency key %q vanished", key)
		}
		return rc, true, err
	}
	telemetry.Tag(ctx, telemetry.ReportID.String(rc.ReportID), telemetry.CaseID.String(rc.CaseID),
		telemetry.UserID.String(r.ReporterID))
	s.Log.InfoContext(ctx, "report filed", "report_id", rc.ReportID, "case_id", rc.CaseID, "new_case", newCase,
		"kind", r.Target.Kind, "target_id", r.Target.ID, "recused", filed.Recused)
	s.wakeIf(filed.Recused)
	s.intake.add(sinceStart())
	if newCase {
		// The round starts asynchronously (RunRoundStarter), so a burst of
		// reports costs the reporter one database transaction each.
		select {
		case s.RoundsDue <- struct{}{}:
		default:
		}
	}
	return rc, false, nil
}

// replay returns the receipt of the report r.ReporterID filed under key, if any.
func (s *Service) replay(ctx context.Context, key string, r domain.Report) (Receipt, bool, error) {
	rc, fingerprint, ok, err := s.Repo.ReportByKey(ctx, r.ReporterID, key)
	switch {
	case err != nil:
		return Receipt{}, false, fmt.Errorf("look up idempotency key: %w", err)
	case !ok:
		return Receipt{}, false, nil
	case fingerprint != "" && fingerprint != r.Fingerprint():
		return Receipt{}, false, domain.ErrIdempotencyKeyReused
	}
	return rc, true, nil
}

func (s *Service) startRound(ctx context.Context, in RoundInput) (err error) {
	ctx, span := telemetry.Start(telemetry.WithTraceparent(ctx, in.Traceparent), "start round",
		trace.WithAttributes(telemetry.CaseID.String(in.CaseID)))
	defer func() { telemetry.End(span, err) }()
	in.PoolRetry, in.Traceparent = s.poolRetry(), telemetry.Traceparent(ctx)
	if err := s.Rounds.Start(ctx, in); err != nil {
		status, xerr := s.Rounds.Status(ctx, in.CaseID, in.Round)
		if xerr != nil || status != RoundAlive {
			return fmt.Errorf("start round for case %s: %w", in.CaseID, err)
		}
	}
	if err := s.Repo.MarkRoundStarted(ctx, in.CaseID, s.Now()); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "round started", "case_id", in.CaseID, "round", max(in.Round, 1))
	return nil
}

func (s *Service) poolRetry() PoolRetry {
	if s.PoolRetry.Initial <= 0 || s.PoolRetry.Max < s.PoolRetry.Initial {
		return DefaultPoolRetry
	}
	return s.PoolRetry
}

// RunRoundStarter starts the round of every new case: at once when this
// replica filed it, and every interval for cases whose start was lost (a
// crash, an unavailable sidecar, another replica). It runs until ctx ends.
func (s *Service) RunRoundStarter(ctx context.Context, interval time.Duration) {
	loop.Every(ctx, s.Log, "start rounds", interval, s.RoundsDue, s.StartPendingRounds)
}

// StartPendingRounds starts every case's round that has not started yet, at
// RoundStarterPace (re-read before every start, so that a burst of reports
// slows it at once, and after every batch, so that the burst's end speeds it
// up). It is safe on every replica: starting a round that exists changes
// nothing.
func (s *Service) StartPendingRounds(ctx context.Context) error {
	for {
		inFlight, gap := RoundStarterPace(s.intake.lastSecond(sinceStart()))
		batch := 4 * inFlight
		pending, err := s.Repo.RoundsNotStarted(ctx, s.Now(), batch)
		if err != nil {
			return fmt.Errorf("list cases without a round: %w", err)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
			sem  = make(chan struct{}, inFlight)
		)
		slowed := false
		for i, in := range pending {
			if now, _ := RoundStarterPace(s.intake.lastSecond(sinceStart())); now < inFlight {
				slowed = true // the intake got busy: the rest at its pace
				break
			}
			if i > 0 && gap > 0 {
				select {
				case <-ctx.Done():
					wg.Wait()
					return ctx.Err()
				case <-time.After(gap):
				}
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := s.startRound(ctx, in); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if len(pending) < batch && !slowed {
			return nil
		}
	}
}

// Report returns a report; only its reporter and operators may see it.
func (s *Service) Report(ctx context.Context, id string) (ReportView, error) {
	return s.Repo.Report(ctx, id)
}

// Case returns a case.
func (s *Service) Case(ctx context.Context, id string) (CaseView, error) { return s.Repo.Case(ctx, id) }

// Cases lists cases.
func (s *Service) Cases(ctx context.Context, f CaseFilter) ([]CaseView, string, error) {
	return s.Repo.ListCases(ctx, f)
}

// CheckVoter returns ErrCaseNotFound, ErrJuryNotReady or ErrNotJuror unless jurorID was drawn
// for the case.
func (s *Service) CheckVoter(ctx context.Context, caseID, jurorID string) error {
	status, drawn, drawing, err := s.Repo.Voter(ctx, caseID, jurorID)
	if errors.Is(err, domain.ErrCaseNotFound) {
		return s.checkGoldVoter(ctx, caseID, jurorID)
	}
	if err != nil {
		return fmt.Errorf("look up juror %s of case %s: %w", jurorID, caseID, err)
	}
	switch {
	case drawn:
		return nil
	case status == domain.StatusPending, status == domain.StatusVoting && drawing:
		// Tasks become visible when the reviewer service draws them, a moment
		// before this service records the jury or the substitute: not settled
		// is not "never drawn".
		return domain.ErrJuryNotReady
	}
	return domain.ErrNotJuror
}

// CastVote records juror's vote; the outbox hands it to the case's round
// and closes the juror's task.
func (s *Service) CastVote(ctx context.Context, caseID, jurorID, decision, comment string) error {
	if err := domain.ValidateVote(decision, comment); err != nil {
		return err
	}
	telemetry.Tag(ctx, telemetry.CaseID.String(caseID), telemetry.UserID.String(jurorID))
	v, err := s.Repo.RecordVote(ctx, caseID, jurorID, decision, comment, s.Now().UTC())
	if errors.Is(err, domain.ErrCaseNotFound) {
		return s.castGoldVote(ctx, caseID, jurorID, decision, comment)
	}
	if err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "vote recorded", "case_id", caseID, "juror_id", jurorID)
	ev := v.Event
	if v.Decided != nil {
		// The quorum vote closed the case: its publication is in the outbox.
		s.Effects.Wake()
		s.decided(ctx, *v.Decided, v.CaseCreatedAt, "")
	}
	// The vote's effects are in the outbox, held back for
	// VoteHandOverDelay: the request carries them out directly first, so
	// that the round hears of the vote (and of the case it closed) at once
	// and the juror's task closes before the answer. The outbox steps in
	// only for what failed here.
	s.carryOutNow(ctx, ev.Key(), func(ctx context.Context) error { return s.Rounds.Raise(ctx, ev) })
	tc := TaskClose{CaseID: caseID, JurorID: jurorID, Reason: "voted"}
	s.carryOutNow(ctx, tc.Key(), func(ctx context.Context) error { return s.closeTask(ctx, tc) })
	return nil
}

// directEffectTimeout bounds what a vote request spends on carrying out an
// effect itself before leaving it to the outbox.
const directEffectTimeout = 3 * time.Second

// carryOutNow carries out a pending effect directly and forgets its outbox
// row when that worked; when it failed, the relay carries it out later.
func (s *Service) carryOutNow(ctx context.Context, key string, effect func(context.Context) error) {
	actx, cancel := context.WithTimeout(ctx, directEffectTimeout)
	defer cancel()
	if err := effect(actx); err != nil {
		s.Log.WarnContext(ctx, "effect deferred to the outbox", "key", key, "err", err)
		return
	}
	if err := s.Repo.ForgetEffect(ctx, key); err != nil {
		s.Log.WarnContext(ctx, "forget an effect carried out; the outbox will carry it out again", "key", key, "err", err)
	}
}
