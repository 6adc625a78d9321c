// Package liveconfig keeps operator settings live on every replica through
// the Dapr Configuration API. The owning service writes a setting to its
// database, where its configuration table notifies the sidecars
// (configuration.postgresql); each replica subscribes through its sidecar and
// applies every change it is posted. Because a sidecar restart silently drops
// subscriptions, the watcher also renews its subscription periodically and
// reloads everything from the database when it does.
package liveconfig

import (
	"context"
	"encoding/json"
	"errors"
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
	// Renew is how often the subscription is renewed (default 5s): a sidecar
	// restart drops subscriptions without telling the app.
	Renew time.Duration
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

// Run keeps the subscription alive until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	renew := w.Renew
	if renew == 0 {
		renew = 5 * time.Second
	}
	var id string
	for {
		newID, err := w.Sidecar.SubscribeConfiguration(ctx, w.Store, w.Settings.Keys())
		if err != nil {
			w.Log.Warn("subscribe to configuration", "store", w.Store, "err", err)
		} else {
			if id != "" {
				_ = w.Sidecar.UnsubscribeConfiguration(ctx, w.Store, id)
			}
			id = newID
		}
		if err := w.Reload(ctx); err != nil && ctx.Err() == nil {
			w.Log.Warn("reload settings", "store", w.Store, "err", err)
		}
		wait := renew
		if err != nil {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
