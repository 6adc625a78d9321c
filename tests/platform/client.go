package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/daprx"
)

// Secret is the JWT secret the local platform runs with.
func Secret() string {
	if s := os.Getenv("GOVERN_JWT_SECRET"); s != "" {
		return s
	}
	return "local-dev-secret"
}

// Token mints a bearer token for user with roles.
func Token(user string, roles ...string) string {
	tok, err := auth.Mint(Secret(), user, roles, time.Hour)
	if err != nil {
		panic(err)
	}
	return tok
}

// Client calls one service as one user.
type Client struct {
	Base  string
	Token string
	// AppToken, when set, is sent as dapr-api-token: a call to an app's
	// sidecar-only routes as its sidecar would make it.
	AppToken string
	HTTP     *http.Client
}

// Response is a decoded answer.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// JSON decodes the body into v.
func (r Response) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Map decodes the body as an object.
func (r Response) Map() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// ErrorCode is the contract error envelope's code, if any.
func (r Response) ErrorCode() string {
	var env struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &env)
	return env.Error.Code
}

func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// Do sends body (a []byte is sent as is, anything else as JSON) with headers.
func (c Client) Do(ctx context.Context, method, path string, body any, headers ...string) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.AppToken != "" {
		req.Header.Set("dapr-api-token", c.AppToken)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: data, Header: resp.Header}, err
}

// As returns a client of app for user with roles.
func (p *Platform) As(app, user string, roles ...string) Client {
	return Client{Base: p.AppURL(app), Token: Token(user, roles...)}
}

// AsSidecar returns a client of app's sidecar-only routes (/internal,
// /events, ...) that presents the app API token, as app's sidecar does.
func (p *Platform) AsSidecar(app string) Client {
	return Client{Base: p.AppURL(app), AppToken: p.AppToken(app)}
}

// Sidecar returns a client of app's sidecar API (publish, invoke, state),
// with the Dapr API token that sidecar requires.
func (p *Platform) Sidecar(app string) *daprx.Client {
	return daprx.New(p.SidecarGRPC(app), p.DaprToken(app))
}
