// Package liveconfig keeps operator settings live on every replica through
// the Dapr Configuration API. The owning service writes a setting to its
// database, where its configuration table notifies the sidecars
// (configuration.postgresql); each replica holds a subscription stream to its
// sidecar (gRPC) and applies every change it sends. When the stream ends (a
// sidecar restart), the watcher subscribes again with backoff and, once the
// sidecar confirms, reloads everything from the database, so no change made
// while it was not subscribed is missed.
package liveconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
)

// Watcher subscribes a replica's Settings to a configuration store.
type Watcher struct {
	Sidecar  *daprx.Client
	Store    string
	Settings *Settings
	// Reload reads every setting from the owning database (the source of
	// truth) and applies it; called at each (re)subscription.
	Reload func(context.Context) error
	Log    *slog.Logger
	// MaxBackoff caps the wait between subscription attempts (default 5s);
	// the first retry waits 100ms.
	MaxBackoff time.Duration
	// Settle is how long after a subscription is confirmed the watcher
	// reloads once more (default 2s). The store confirms before it listens:
	// configuration.postgresql returns the subscription's id and runs its
	// LISTEN in a goroutine afterwards, so a change committed between the
	// first reload and the LISTEN would reach no replica until the next one.
	Settle time.Duration
}

// Register mounts the route the sidecar posts changes to. It always answers
// 200: a value that cannot be applied now never will be, and the database
// reload repairs anything missed.
func (w *Watcher) Register(r gin.IRouter) {
	r.POST("/configuration/"+w.Store+"/:key", func(c *gin.Context) {
		var body struct {
			Items map[string]daprx.ConfigItem `json:"items"`
		}
		raw, err := httpx.ReadBody(c)
		if err == nil {
			err = json.Unmarshal(raw, &body)
		}
		if err != nil {
			w.Log.Warn("ignoring malformed configuration update", "store", w.Store, "err", err)
			c.Status(http.StatusOK)
			return
		}
		for key, it := range body.Items {
			w.apply(key, it)
		}
		c.Status(http.StatusOK)
	})
}

func (w *Watcher) apply(key string, it daprx.ConfigItem) {
	w.Log.Debug("configuration item received", "store", w.Store, "key", key, "version", it.Version)
	version, err := strconv.ParseInt(it.Version, 10, 64)
	if err != nil {
		w.Log.Warn("ignoring setting without a numeric version", "store", w.Store, "key", key, "version", it.Version)
		return
	}
	applied, err := w.Settings.Apply(key, []byte(it.Value), version)
	switch {
	case errors.Is(err, ErrUnknownKey):
		w.Log.Debug("ignoring unknown setting", "store", w.Store, "key", key)
	case err != nil:
		w.Log.Warn("ignoring invalid setting", "store", w.Store, "key", key, "version", version, "err", err)
	case applied:
		w.Log.Info("setting updated from configuration store", "store", w.Store, "key", key, "version", version)
	}
}

// Run keeps the subscription alive until ctx ends: each time the stream
// ends or cannot be opened, it waits (doubling from 100ms up to MaxBackoff,
// back to 100ms after a subscription that held) and subscribes again.
func (w *Watcher) Run(ctx context.Context) {
	maxWait := w.MaxBackoff
	if maxWait == 0 {
		maxWait = 5 * time.Second
	}
	settle := w.Settle
	if settle == 0 {
		settle = 2 * time.Second
	}
	const minWait = 100 * time.Millisecond
	wait := minWait
	for {
		held := false
		err := w.Sidecar.WatchConfiguration(ctx, w.Store, w.Settings.Keys(),
			func(ctx context.Context) error {
				if err := w.Reload(ctx); err != nil {
					return fmt.Errorf("reload settings: %w", err)
				}
				held = true
				w.Log.Info("subscribed to configuration", "store", w.Store)
				// ctx ends with the subscription.
				go func() {
					select {
					case <-ctx.Done():
						return
					case <-time.After(settle):
					}
					if err := w.Reload(ctx); err != nil && ctx.Err() == nil {
						w.Log.Warn("reload settings after subscribing", "store", w.Store, "err", err)
					}
				}()
				return nil
			},
			func(items map[string]daprx.ConfigItem) {
				for key, it := range items {
					w.apply(key, it)
				}
			})
		if ctx.Err() != nil {
			return
		}
		if held {
			wait = minWait
		}
		w.Log.Warn("configuration subscription ended; subscribing again", "store", w.Store, "err", err, "wait", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if !held {
			wait = min(2*wait, maxWait)
		}
	}
}
