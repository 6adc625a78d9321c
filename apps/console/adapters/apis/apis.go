// Package apis calls the three apps' public HTTP APIs as the signed-in
// operator: every request carries the operator's own ops token, so the apps
// check who may do what exactly as they do for any other client.
package apis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Apps, in the order the console shows them.
var Apps = []string{"report", "reviewer", "reward"}

// Client reaches each app at its base URL.
type Client struct {
	Bases map[string]string // app -> base URL, e.g. http://127.0.0.1:8081
	HTTP  *http.Client
}

// New returns a client with a bounded timeout per call.
func New(bases map[string]string) *Client {
	return &Client{Bases: bases, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// Error is an app's non-2xx answer with the contract's error envelope.
type Error struct {
	App     string
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s answered %d %s: %s", e.App, e.Status, e.Code, e.Message)
}

// Unreachable is a call that got no answer (the app is down or too slow).
type Unreachable struct {
	App string
	Err error
}

func (e *Unreachable) Error() string { return e.App + " unreachable: " + e.Err.Error() }
func (e *Unreachable) Unwrap() error { return e.Err }

// Get decodes app's answer to GET path into out.
func (c *Client) Get(ctx context.Context, token, app, path string, out any) error {
	return c.Do(ctx, token, http.MethodGet, app, path, nil, out)
}

// Do sends in (unless nil) as JSON and decodes a 2xx answer into out (unless nil).
func (c *Client) Do(ctx context.Context, token, method, app, path string, in, out any) error {
	base, ok := c.Bases[app]
	if !ok {
		return fmt.Errorf("unknown app %q", app)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request to %s: %w", app, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return fmt.Errorf("request to %s: %w", app, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return &Unreachable{App: app, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &Unreachable{App: app, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{App: app, Status: resp.StatusCode}
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &env) == nil && env.Error.Code != "" {
			e.Code, e.Message = env.Error.Code, env.Error.Message
		} else {
			e.Message = string(bytes.TrimSpace(data))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", app, path, err)
	}
	return nil
}

// Health is an app's /healthz answer.
type Health struct {
	Status int    // HTTP status, 0 when unreachable
	Body   string // the answer, or why there was none
}

// Healthz asks app's readiness endpoint (no token needed).
func (c *Client) Healthz(ctx context.Context, app string) Health {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Bases[app]+"/healthz", nil)
	if err != nil {
		return Health{Body: err.Error()}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Health{Body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return Health{Status: resp.StatusCode, Body: string(bytes.TrimSpace(b))}
}

// AsError returns err as an app's answer, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
