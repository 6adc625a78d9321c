package events_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/govern/reward/app"
	"github.com/govern/reward/ports/events"
)

func creditGold(ledger app.CreditRepository, body string) int {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	events.NewSubscriber(app.New(app.Repositories{Credits: ledger}), slog.New(slog.DiscardHandler)).Register(r)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", events.GoldCreditRoute, strings.NewReader(body)))
	return rec.Code
}

func TestMalformedGoldCreditIsAFinal400WithoutTouchingTheLedger(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not an object":    `"text"`,
		"unknown field":    `{"case_id":"c1","juror_id":"u1","vote":"uphold","decision":"upheld","decided_at":"2026-03-01T12:00:00Z","x":1}`,
		"missing case id":  `{"juror_id":"u1","vote":"uphold","decision":"upheld","decided_at":"2026-03-01T12:00:00Z"}`,
		"bad vote":         `{"case_id":"c1","juror_id":"u1","vote":"yes","decision":"upheld","decided_at":"2026-03-01T12:00:00Z"}`,
		"undecided":        `{"case_id":"c1","juror_id":"u1","vote":"uphold","decision":"undecided","decided_at":"2026-03-01T12:00:00Z"}`,
		"no decision time": `{"case_id":"c1","juror_id":"u1","vote":"uphold","decision":"upheld"}`,
		"control in juror": `{"case_id":"c1","juror_id":"u\u0007","vote":"uphold","decision":"upheld","decided_at":"2026-03-01T12:00:00Z"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ledger := &unavailableLedger{}
			if code := creditGold(ledger, body); code != 400 || ledger.calls != 0 {
				t.Fatalf("status %d after %d ledger calls, want 400 and none", code, ledger.calls)
			}
		})
	}
}

func TestGoldCreditIsRetriedWhenTheLedgerIsUnavailable(t *testing.T) {
	t.Parallel()
	ledger := &unavailableLedger{}
	body := `{"case_id":"c1","juror_id":"u1","vote":"reject","decision":"upheld","decided_at":"2026-03-01T12:00:00Z"}`
	if code := creditGold(ledger, body); code != 500 || ledger.calls != 1 {
		t.Fatalf("status %d after %d ledger calls, want 500 after one", code, ledger.calls)
	}
}
