// Package daprx is the one way the services talk to their Dapr sidecar over
// HTTP: service invocation, publishing, configuration, and the pub/sub
// delivery envelope.
package daprx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/telemetry"
)

// Client calls one sidecar's HTTP API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the sidecar at base (e.g. http://127.0.0.1:3500).
// A non-empty token is sent as dapr-api-token on every call, as a sidecar
// started with DAPR_API_TOKEN requires.
func New(base, token string) *Client {
	return &Client{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// RemoteError is a non-2xx answer from the invoked app, with the code from the
// contract's error envelope when it sent one.
type RemoteError struct {
	Status  int
	Code    string
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Invoke calls method on app through the sidecar, sending in as JSON (unless
// nil) and decoding a 2xx body into out (unless nil).
func (c *Client) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	return c.do(ctx, "invoke "+app+"/"+method, httpMethod, "/v1.0/invoke/"+url.PathEscape(app)+"/method/"+method, in, out)
}

// Publish sends v as JSON to topic on the pub/sub component.
func (c *Client) Publish(ctx context.Context, pubsub, topic string, v any) error {
	return c.do(ctx, "publish "+topic, http.MethodPost, "/v1.0/publish/"+url.PathEscape(pubsub)+"/"+url.PathEscape(topic), v, nil)
}

// PublishKeyed is Publish with a partition key: on Kafka every message of one
// key lands on one partition, in publishing order (other brokers ignore it).
func (c *Client) PublishKeyed(ctx context.Context, pubsub, topic, key string, v any) error {
	return c.do(ctx, "publish "+topic, http.MethodPost, "/v1.0/publish/"+url.PathEscape(pubsub)+"/"+url.PathEscape(topic)+
		"?metadata.partitionKey="+url.QueryEscape(key), v, nil)
}

// do makes the call, as a client span named span inside a traced
// operation; the sidecar continues the trace from the traceparent header.
// A call outside any trace (the configuration renewal) starts none.
func (c *Client) do(ctx context.Context, span, method, path string, in, out any) (err error) {
	sp := trace.SpanFromContext(ctx)
	if sp.SpanContext().IsValid() {
		ctx, sp = telemetry.Start(ctx, span, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.request.method", method)))
		defer func() { telemetry.End(sp, err) }()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("dapr-api-token", c.token)
	}
	telemetry.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	sp.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		re := &RemoteError{Status: resp.StatusCode, Message: string(data)}
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &env) == nil && env.Error.Code != "" {
			re.Code, re.Message = env.Error.Code, env.Error.Message
		}
		return fmt.Errorf("%s %s: %w", method, path, re)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// IsRemote reports whether err is a RemoteError with the given status (and
// code, when code is not empty).
func IsRemote(err error, status int, code string) bool {
	var re *RemoteError
	return errors.As(err, &re) && re.Status == status && (code == "" || re.Code == code)
}

// ConfigItem is one key of a configuration store.
type ConfigItem struct {
	Value    string            `json:"value"`
	Version  string            `json:"version"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// SubscribeConfiguration asks the sidecar to post every change of keys in
// store to the app at /configuration/<store>/<key>; it returns the
// subscription id.
func (c *Client) SubscribeConfiguration(ctx context.Context, store string, keys []string) (string, error) {
	q := url.Values{"key": keys}
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, "subscribe configuration "+store, http.MethodGet, "/v1.0/configuration/"+url.PathEscape(store)+"/subscribe?"+q.Encode(), nil, &out)
	return out.ID, err
}

// UnsubscribeConfiguration ends a subscription.
func (c *Client) UnsubscribeConfiguration(ctx context.Context, store, id string) error {
	return c.do(ctx, "unsubscribe configuration "+store, http.MethodGet, "/v1.0/configuration/"+url.PathEscape(store)+"/"+url.PathEscape(id)+"/unsubscribe", nil, nil)
}
