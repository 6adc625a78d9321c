package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/govern/tests/platform"
)

// api calls the platform as its users do, with a timeout on every call: a
// paused process must cost a caller a retry, not a hang.
type api struct {
	plat *platform.Platform
	http *http.Client
}

func newAPI(plat *platform.Platform) *api {
	return &api{plat: plat, http: &http.Client{Timeout: 10 * time.Second}}
}

func (a *api) as(app, user string, roles ...string) platform.Client {
	c := a.plat.As(app, user, roles...)
	c.HTTP = a.http
	return c
}

// retry repeats call until it returns done or ctx ends, backing off up to
// two seconds between attempts. It returns the last response and error.
func retry(ctx context.Context, call func() (platform.Response, error, bool)) (platform.Response, error) {
	wait := 100 * time.Millisecond
	for {
		resp, err, done := call()
		if done {
			return resp, err
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("gave up after %s", resp)
			}
			return resp, errors.Join(ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// transient reports whether an answer is worth repeating: the process was
// down, paused or restarting.
func transient(resp platform.Response, err error) bool {
	return err != nil || resp.Status >= 500 || resp.Status == http.StatusTooManyRequests
}

// put sends an operator's setting until it is answered with 200.
func (a *api) put(ctx context.Context, app, path string, body any) error {
	ops := a.as(app, "chaos-ops", "ops")
	resp, err := retry(ctx, func() (platform.Response, error, bool) {
		resp, err := ops.Do(ctx, http.MethodPut, path, body)
		return resp, err, !transient(resp, err)
	})
	if err != nil {
		return fmt.Errorf("PUT %s: %w", path, err)
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("PUT %s: %s", path, resp)
	}
	return nil
}

var kinds = []string{"item", "post", "comment", "chat", "review"}

// setUp gives every kind the run's short policy, lifts fatigue limits and
// the daily cap (the bots vote far more than people do), and registers the
// jurors.
func setUp(ctx context.Context, a *api, o options) (*bots, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for i, kind := range kinds {
		onTimeout := "undecided"
		if i%2 == 1 {
			onTimeout = "escalate"
		}
		policy := map[string]any{
			"kind": kind, "jury_size": jurySize, "quorum": quorum,
			"juror_timeout": jurorTimeout.String(), "max_duration": maxDuration.String(),
			"max_substitutes": maxSubstitutes, "on_timeout": onTimeout, "cooldown": "0s",
		}
		if err := a.put(ctx, "report", "/v1/policies/"+kind, policy); err != nil {
			return nil, err
		}
	}
	if err := a.put(ctx, "reviewer", "/v1/fatigue", map[string]any{
		"max_per_day": 1_000_000, "max_open": 1_000_000, "cooldown": "0s",
	}); err != nil {
		return nil, err
	}
	if err := a.put(ctx, "reward", "/v1/rules", map[string]any{
		"points_per_vote": 10, "majority_bonus": 5, "daily_cap": 1_000_000,
	}); err != nil {
		return nil, err
	}
	b := newBots(a, o.seed)
	for i := range o.jurors {
		id := fmt.Sprintf("bot-%d-%02d", o.seed, i)
		if err := a.put(ctx, "reviewer", "/v1/users/"+id+"/profile", map[string]any{
			"tags": []string{"verified"}, "last_active_at": time.Now().UTC().Format(time.RFC3339),
		}); err != nil {
			return nil, err
		}
		b.jurors = append(b.jurors, id)
	}
	return b, nil
}
