package reviewer

import (
	"errors"
	"fmt"
	"testing"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/app"
)

func TestOnlyAnswersNoRetryCanChangeAreRefusals(t *testing.T) {
	t.Parallel()
	for status, refused := range map[int]bool{400: true, 404: true, 409: true, 413: true, 422: true,
		401: false, 403: false, 408: false, 429: false, 500: false, 502: false, 503: false} {
		err := refusal(fmt.Errorf("invoke: %w", &daprx.RemoteError{Status: status}))
		if errors.Is(err, app.ErrRefused) != refused || app.Permanent(err) != refused {
			t.Errorf("%d: refused=%v, want %v", status, errors.Is(err, app.ErrRefused), refused)
		}
	}
	if err := refusal(errors.New("dial tcp: connection refused")); app.Permanent(err) {
		t.Error("a transport error is permanent")
	}
	if refusal(nil) != nil {
		t.Error("no error became one")
	}
}
