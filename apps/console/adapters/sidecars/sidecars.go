// Package sidecars reads what each app's Dapr sidecar says about itself:
// health and the metadata API (components, subscriptions, actors,
// workflows), the view of the Dapr dashboard.
package sidecars

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Sidecar is one app's sidecar: its HTTP API and, when the sidecar requires
// one, the Dapr API token.
type Sidecar struct {
	Base  string
	Token string
}

// Client reads the sidecars.
type Client struct {
	Sidecars map[string]Sidecar // by app
	HTTP     *http.Client
}

// New returns a client with a short timeout: a page waits for no sidecar long.
func New(sidecars map[string]Sidecar) *Client {
	return &Client{Sidecars: sidecars, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Metadata is the part of GET /v1.0/metadata the console shows.
type Metadata struct {
	ID              string         `json:"id"`
	RuntimeVersion  string         `json:"runtimeVersion"`
	EnabledFeatures []string       `json:"enabledFeatures"`
	Actors          []ActorCount   `json:"actors"`
	Components      []Component    `json:"components"`
	Subscriptions   []Subscription `json:"subscriptions"`
	ActorRuntime    struct {
		Status       string       `json:"runtimeStatus"`
		ActiveActors []ActorCount `json:"activeActors"`
		HostReady    bool         `json:"hostReady"`
		Placement    string       `json:"placement"`
	} `json:"actorRuntime"`
	Workflows struct {
		ConnectedWorkers int `json:"connectedWorkers"`
	} `json:"workflows"`
	Scheduler *struct {
		ConnectedAddresses []string `json:"connected_addresses"`
	} `json:"scheduler"`
}

// ActorCount is how many actors of one type are active on the sidecar.
type ActorCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// Component is a loaded Dapr component.
type Component struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Version      string   `json:"version"`
	Capabilities []string `json:"capabilities"`
}

// Subscription is a topic the sidecar delivers to its app.
type Subscription struct {
	PubSub          string `json:"pubsubname"`
	Topic           string `json:"topic"`
	DeadLetterTopic string `json:"deadLetterTopic"`
	Type            string `json:"type"`
	Rules           []struct {
		Match string `json:"match"`
		Path  string `json:"path"`
	} `json:"rules"`
}

// Status is one sidecar's health and metadata, or why they are missing.
type Status struct {
	Healthy  bool
	Health   string
	Metadata *Metadata
	Err      string
}

// Read asks app's sidecar for its health and metadata.
func (c *Client) Read(ctx context.Context, app string) Status {
	sc, ok := c.Sidecars[app]
	if !ok {
		return Status{Err: "no sidecar configured for " + app}
	}
	var st Status
	code, body, err := c.get(ctx, sc, "/v1.0/healthz")
	switch {
	case err != nil:
		st.Health = err.Error()
	case code/100 == 2:
		st.Healthy, st.Health = true, fmt.Sprintf("%d", code)
	default:
		st.Health = fmt.Sprintf("%d %s", code, body)
	}
	code, body, err = c.get(ctx, sc, "/v1.0/metadata")
	switch {
	case err != nil:
		st.Err = err.Error()
	case code != http.StatusOK:
		st.Err = fmt.Sprintf("metadata answered %d %s", code, body)
	default:
		var md Metadata
		if err := json.Unmarshal(body, &md); err != nil {
			st.Err = "metadata: " + err.Error()
		} else {
			st.Metadata = &md
		}
	}
	return st
}

func (c *Client) get(ctx context.Context, sc Sidecar, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sc.Base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if sc.Token != "" {
		req.Header.Set("dapr-api-token", sc.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, bytes.TrimSpace(b), err
}
