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
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
)

// Applier receives settings: a key, its JSON value and its version.
type Applier func(key string, value []byte, version string)

// Watcher subscribes a replica to a configuration store.
type Watcher struct {
	Sidecar *daprx.Client
	Store   string
	Keys    []string
	Apply   Applier
	// Reload reads every setting from the owning database (the source of
	// truth) and applies it; called at each (re)subscription.
	Reload func(context.Context) error
	Log    *slog.Logger
	// Renew is how often the subscription is renewed (default 5s): a sidecar
	// restart drops subscriptions without telling the app.
	Renew time.Duration
}

// Register mounts the route the sidecar posts changes to.
func (w *Watcher) Register(r gin.IRouter) {
	r.POST("/configuration/"+w.Store+"/:key", func(c *gin.Context) {
		var body struct {
			Items map[string]daprx.ConfigItem `json:"items"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			w.Log.Warn("ignoring malformed configuration update", "store", w.Store, "err", err)
			c.Status(http.StatusOK)
			return
		}
		for key, it := range body.Items {
			if !json.Valid([]byte(it.Value)) {
				w.Log.Warn("ignoring configuration value that is not JSON", "store", w.Store, "key", key)
				continue
			}
			w.Apply(key, []byte(it.Value), it.Version)
		}
		c.Status(http.StatusOK)
	})
}

// Run keeps the subscription alive until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	renew := w.Renew
	if renew == 0 {
		renew = 5 * time.Second
	}
	var id string
	for {
		newID, err := w.Sidecar.SubscribeConfiguration(ctx, w.Store, w.Keys)
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
