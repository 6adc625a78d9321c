package daprx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// invokeAnswer is the status the sidecar answers InvokeService with when
// the invoked HTTP app answers a non-2xx: the HTTP status and the start of
// the body in an ErrorInfo of domain dapr.io.
func invokeAnswer(t *testing.T, code codes.Code, httpCode, body string) error {
	t.Helper()
	st, err := status.New(code, "Not Found").WithDetails(&errdetails.ErrorInfo{
		Reason: "Not Found", Domain: "dapr.io",
		Metadata: map[string]string{"http.code": httpCode, "http.error_message": body},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestRemoteMapsTheInvokedAppsAnswer(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"whole envelope", invokeAnswer(t, codes.NotFound, "404", `{"error":{"code":"not_found","message":"no such case"}}`), 404, "not_found"},
		{"envelope cut at 63 bytes", invokeAnswer(t, codes.FailedPrecondition, "409",
			`{"error":{"code":"case_closed","message":"the case was closed a`), 409, "case_closed"},
		{"no envelope", invokeAnswer(t, codes.Internal, "500", "boom"), 500, ""},
		{"the sidecar refused the token", status.Error(codes.Unauthenticated, "authentication error: api token mismatch"), 401, ""},
		{"the sidecar refused the call", status.Error(codes.PermissionDenied, "access control"), 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := remote(c.err)
			if !IsRemote(err, c.status, c.code) {
				t.Fatalf("remote(%v) = %v, want status %d code %q", c.err, err, c.status, c.code)
			}
			var re *RemoteError
			errors.As(err, &re)
			if re.Code != c.code {
				t.Errorf("code = %q, want %q", re.Code, c.code)
			}
		})
	}
}

func TestRemoteLeavesCallsWithoutAnAnswerAlone(t *testing.T) {
	for _, err := range []error{
		status.Error(codes.Unavailable, "connection refused"),
		status.Error(codes.DeadlineExceeded, "deadline"),
		context.Canceled,
		errors.New("plain"),
	} {
		got := remote(err)
		var re *RemoteError
		if errors.As(got, &re) {
			t.Errorf("remote(%v) = RemoteError %v, want the error as it is", err, re)
		}
		if !errors.Is(got, err) && got.Error() != err.Error() {
			t.Errorf("remote(%v) = %v", err, got)
		}
	}
	if IsRemote(remote(status.Error(codes.Unavailable, "x")), http.StatusServiceUnavailable, "") {
		t.Error("an unreachable sidecar is not an answer")
	}
}

// Only an app's 4xx that no retry can change is a refusal; the tokens
// (401, 403), 408, 429, 5xx and calls without an answer may pass later.
func TestRefusedIsAFinal4xxOnly(t *testing.T) {
	for status, want := range map[int]bool{400: true, 404: true, 409: true, 413: true, 422: true,
		401: false, 403: false, 408: false, 429: false, 500: false, 503: false} {
		if got := Refused(fmt.Errorf("invoke: %w", &RemoteError{Status: status})); got != want {
			t.Errorf("%d: refused %v, want %v", status, got, want)
		}
	}
	if Refused(errors.New("connection refused")) || Refused(nil) {
		t.Error("a call without an answer is no refusal")
	}
}
