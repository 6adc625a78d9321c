package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/govern/reward/app"
	"github.com/govern/reward/ports/events"
)

// unavailableLedger fails every transaction, like a database that is down.
type unavailableLedger struct{ calls int }

func (u *unavailableLedger) InTx(context.Context, func(context.Context, app.CreditTx) error) error {
	u.calls++
	return errors.New("connection refused")
}

func deliver(t *testing.T, ledger app.CreditRepository, data string) string {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	events.NewSubscriber(app.New(app.Repositories{Credits: ledger}), slog.New(slog.DiscardHandler)).Register(r)
	body := `{"id":"e1","topic":"case-decided","data":` + data + `}`
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", events.CaseDecidedRoute, strings.NewReader(body)))
	var out struct{ Status string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("answer %d %q, want 200 with a status", rec.Code, rec.Body)
	}
	return out.Status
}

func TestMalformedCaseDecidedEventIsDroppedWithoutTouchingTheLedger(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"not an object":     `"text"`,
		"missing case id":   `{"decision":"upheld","decided_at":"2025-03-01T12:00:00Z","votes":[]}`,
		"unknown decision":  `{"case_id":"c1","decision":"maybe","decided_at":"2025-03-01T12:00:00Z","votes":[]}`,
		"bad vote":          `{"case_id":"c1","decision":"upheld","decided_at":"2025-03-01T12:00:00Z","votes":[{"juror_id":"u1","decision":"yes"}]}`,
		"empty juror id":    `{"case_id":"c1","decision":"upheld","decided_at":"2025-03-01T12:00:00Z","votes":[{"juror_id":"","decision":"uphold"}]}`,
		"bad decision time": `{"case_id":"c1","decision":"upheld","decided_at":"yesterday","votes":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ledger := &unavailableLedger{}
			if got := deliver(t, ledger, data); got != "DROP" || ledger.calls != 0 {
				t.Fatalf("status %s after %d ledger calls, want DROP and none", got, ledger.calls)
			}
		})
	}
}

func TestCaseDecidedEventIsRetriedWhenTheLedgerIsUnavailable(t *testing.T) {
	t.Parallel()
	data := `{"case_id":"c1","target":{"kind":"post","id":"p1","owner_id":"o1"},"decision":"upheld",
		"decided_at":"2025-03-01T12:00:00Z","tally":{"uphold":1,"reject":0},"votes":[{"juror_id":"u1","decision":"uphold"}]}`
	if got := deliver(t, &unavailableLedger{}, data); got != "RETRY" {
		t.Fatalf("status %s, want RETRY", got)
	}
}
