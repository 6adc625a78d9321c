// Package daprx is the one way the services talk to their Dapr sidecar:
// service invocation, publishing and configuration go through the sidecar's
// gRPC API with dapr/go-sdk (instrumented by otelgrpc, so the trace context
// flows on every call); subscribe.go reads the pub/sub delivery envelope.
package daprx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	dapr "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/govern/kit/telemetry"
)

// Client calls one sidecar's gRPC API.
type Client struct {
	sdk dapr.Client
	err error // a malformed address: every call fails with it
}

// New returns a client for the sidecar's gRPC API at addr (host:port, e.g.
// 127.0.0.1:50001). The connection is made lazily and re-made after a
// sidecar restart. A non-empty token is sent as dapr-api-token on every
// call, as a sidecar started with DAPR_API_TOKEN requires; nothing is read
// from the environment (the SDK's client over a given connection sends no
// token of its own).
func New(addr, token string) *Client {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
	}
	if token != "" {
		// The SDK adds its token only to connections it dials itself.
		opts = append(opts,
			grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
				return invoker(metadata.AppendToOutgoingContext(ctx, apiTokenHeader, token), method, req, reply, cc, o...)
			}),
			grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, o ...grpc.CallOption) (grpc.ClientStream, error) {
				return streamer(metadata.AppendToOutgoingContext(ctx, apiTokenHeader, token), desc, cc, method, o...)
			}))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return &Client{err: fmt.Errorf("sidecar address %q: %w", addr, err)}
	}
	return &Client{sdk: dapr.NewClientWithConnection(conn)}
}

// apiTokenHeader is the metadata key a sidecar reads its API token from.
const apiTokenHeader = "dapr-api-token"

// Close releases the connection.
func (c *Client) Close() {
	if c.sdk != nil {
		c.sdk.Close()
	}
}

// RemoteError is a non-2xx answer: from the invoked app, with the code from
// the contract's error envelope when it sent one, or from the sidecar itself
// (a refused API token is a 401), with the HTTP status its gRPC code means.
type RemoteError struct {
	Status  int
	Code    string
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Refused reports whether err is an invoked app's final answer: a 4xx but
// 401, 403, 408 and 429, which a retry cannot change (the contract of the
// platform's internal routes). Anything else (no answer, a 5xx, an auth or
// rate refusal) may pass on a later try.
func Refused(err error) bool {
	var re *RemoteError
	if !errors.As(err, &re) || re.Status/100 != 4 {
		return false
	}
	switch re.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return true
}

// Invoke calls method on app through the sidecar, sending in as JSON (unless
// nil) and decoding a 2xx body into out (unless nil).
func (c *Client) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) (err error) {
	ctx, end := c.span(ctx, "invoke "+app+"/"+method, attribute.String("http.request.method", httpMethod))
	defer func() { end(err) }()
	if c.err != nil {
		return c.err
	}
	content := &dapr.DataContent{}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		content = &dapr.DataContent{Data: b, ContentType: "application/json"}
	}
	data, err := c.sdk.InvokeMethodWithContent(ctx, app, method, httpMethod, content)
	if err != nil {
		return fmt.Errorf("invoke %s %s/%s: %w", httpMethod, app, method, remote(err))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("invoke %s %s/%s: decode answer: %w", httpMethod, app, method, err)
		}
	}
	return nil
}

// Publish sends v as JSON to topic on the pub/sub component.
func (c *Client) Publish(ctx context.Context, pubsub, topic string, v any) error {
	return c.publish(ctx, pubsub, topic, v, nil)
}

// PublishKeyed is Publish with a partition key: on Kafka every message of one
// key lands on one partition, in publishing order (other brokers ignore it).
func (c *Client) PublishKeyed(ctx context.Context, pubsub, topic, key string, v any) error {
	return c.publish(ctx, pubsub, topic, v, map[string]string{"partitionKey": key})
}

func (c *Client) publish(ctx context.Context, pubsub, topic string, v any, md map[string]string) (err error) {
	ctx, end := c.span(ctx, "publish "+topic)
	defer func() { end(err) }()
	if c.err != nil {
		return c.err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	opts := []dapr.PublishEventOption{dapr.PublishEventWithContentType("application/json")}
	if md != nil {
		opts = append(opts, dapr.PublishEventWithMetadata(md))
	}
	if err := c.sdk.PublishEvent(ctx, pubsub, topic, b, opts...); err != nil {
		return fmt.Errorf("publish %s/%s: %w", pubsub, topic, remote(err))
	}
	return nil
}

// span starts a client span inside a traced operation (otelgrpc's span of
// the gRPC call is its child); a call outside any trace starts none.
func (c *Client) span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
		return ctx, func(error) {}
	}
	ctx, sp := telemetry.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		var re *RemoteError
		if errors.As(err, &re) {
			sp.SetAttributes(attribute.Int("http.response.status_code", re.Status))
		}
		telemetry.End(sp, err)
	}
}

// envelopeCode picks the code out of the contract's error envelope
// ({"error":{"code":...}}), which the sidecar may have cut short.
var envelopeCode = regexp.MustCompile(`^\s*\{\s*"error"\s*:\s*\{\s*"code"\s*:\s*"([^"\\]+)"`)

// remote turns a gRPC status the sidecar answered into a RemoteError. The
// sidecar reports an invoked app's non-2xx answer as a status whose
// ErrorInfo (domain dapr.io) carries the app's HTTP status (http.code) and
// the start of its body (http.error_message, at most 63 bytes); its own
// refusals carry only the gRPC code. A call that never got an answer (the
// sidecar unreachable, the context ended) stays as it is.
func remote(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != "dapr.io" {
			continue
		}
		code, convErr := strconv.Atoi(info.GetMetadata()["http.code"])
		if convErr != nil {
			continue
		}
		body := info.GetMetadata()["http.error_message"]
		re := &RemoteError{Status: code, Message: body}
		if m := envelopeCode.FindStringSubmatch(body); m != nil {
			re.Code = m[1]
		}
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal([]byte(body), &env) == nil && env.Error.Code != "" {
			re.Code, re.Message = env.Error.Code, env.Error.Message
		}
		return fmt.Errorf("%w (%v)", re, err)
	}
	s := httpStatus(st.Code())
	if s == 0 {
		return err
	}
	return &RemoteError{Status: s, Message: st.Message()}
}

// httpStatus is the HTTP status the sidecar's HTTP API answers for a gRPC
// code; 0 for the codes that mean no answer came.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition:
		return http.StatusBadRequest
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return http.StatusInternalServerError
	}
	return 0 // OK, Canceled, DeadlineExceeded, Unavailable
}

// IsRemote reports whether err is a RemoteError with the given status (and
// code, when code is not empty).
func IsRemote(err error, status int, code string) bool {
	var re *RemoteError
	return errors.As(err, &re) && re.Status == status && (code == "" || re.Code == code)
}
