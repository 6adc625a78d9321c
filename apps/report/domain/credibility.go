package domain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// CredibilityPrior is the Beta prior of a reporter's upheld ratio: Upheld
// and Rejected pseudo-decisions every reporter starts with.
type CredibilityPrior struct {
	Upheld   float64
	Rejected float64
}

// DefaultCredibilityPrior is Beta(2,2): a new reporter stands at 0.5, one
// rejected report moves them only to 0.4 (never punished for one mistake),
// and ten rejected reports in a row bring them down to 1/7.
func DefaultCredibilityPrior() CredibilityPrior { return CredibilityPrior{Upheld: 2, Rejected: 2} }

// Credibility is the smoothed upheld ratio (upheld+a)/(decided+a+b) of a
// reporter whose reports were upheld and rejected so many times; undecided
// and escalated cases count for neither.
func (p CredibilityPrior) Credibility(upheld, rejected int) float64 {
	return (p.Upheld + float64(upheld)) / (p.Upheld + p.Rejected + float64(upheld+rejected))
}

// ReporterRecord is what GET /v1/reporters/{id} shows of a reporter.
type ReporterRecord struct {
	ReporterID  string  `json:"reporter_id"`
	Filed       int     `json:"filed"`
	Upheld      int     `json:"upheld"`
	Rejected    int     `json:"rejected"`
	Credibility float64 `json:"credibility"`
}

// NewReporterRecord fills in the credibility under the default prior.
func NewReporterRecord(id string, filed, upheld, rejected int) ReporterRecord {
	return ReporterRecord{ReporterID: id, Filed: filed, Upheld: upheld, Rejected: rejected,
		Credibility: DefaultCredibilityPrior().Credibility(upheld, rejected)}
}

// PendingCase is a case waiting for a jury, with the summed credibility of
// everyone who reported it.
type PendingCase struct {
	CaseID      string
	CreatedAt   time.Time
	Credibility float64
}

// OrderPending sorts cases in the order juries are drawn for them when the
// pool cannot seat them all: highest summed reporter credibility first, so
// that a case several credible users reported goes ahead of one from a
// serial false reporter; then the oldest; then by id, so the order is total.
func OrderPending(cases []PendingCase) {
	slices.SortStableFunc(cases, comparePending)
}

func comparePending(a, b PendingCase) int {
	if c := cmp.Compare(b.Credibility, a.Credibility); c != 0 {
		return c
	}
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.CaseID, b.CaseID)
}

// Bounds of the live setting daily_report_cap; 0 turns the cap off.
const (
	DefaultDailyReportCap = 50
	MaxDailyReportCap     = 100_000
)

// ValidDailyReportCap reports whether n is an acceptable daily cap.
func ValidDailyReportCap(n int) bool { return n >= 0 && n <= MaxDailyReportCap }

// UTCDay is the start of now's day in UTC, the day the cap counts reports in.
func UTCDay(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CheckDailyCap says whether a reporter who filed filedToday reports since
// UTCDay(now) may file one more under cap (0: no cap). When not, retryAfter
// is the whole seconds until the UTC day rolls over, at least one, for the
// Retry-After header of the 429.
func CheckDailyCap(filedToday, cap int, now time.Time) (allowed bool, retryAfter time.Duration) {
	if cap <= 0 || filedToday < cap {
		return true, 0
	}
	left := UTCDay(now).Add(24 * time.Hour).Sub(now)
	secs := (left + time.Second - 1) / time.Second
	return false, max(secs, 1) * time.Second
}

// ErrDailyCapReached means the reporter filed as many reports today (UTC) as
// the daily cap allows.
var ErrDailyCapReached = errors.New("daily report cap reached")

// DailyCapError is ErrDailyCapReached with the cap and how long until the
// reporter may file again.
type DailyCapError struct {
	Cap        int
	RetryAfter time.Duration
}

func (e *DailyCapError) Error() string {
	return fmt.Sprintf("%v: at most %d reports per reporter per UTC day, retry after %ds", ErrDailyCapReached, e.Cap, int64(e.RetryAfter/time.Second))
}

// Is makes errors.Is(err, ErrDailyCapReached) hold.
func (e *DailyCapError) Is(target error) bool { return target == ErrDailyCapReached }
