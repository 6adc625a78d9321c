package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/govern/kit/openapi"
	"github.com/govern/tests/platform"
)

// The contract lives in apps/kit/openapi: one OpenAPI document per service,
// served by the running app. These tests hold the running apps to it:
//   - the served document is the committed one, and a valid OpenAPI 3.0
//     document whose examples validate against their schemas;
//   - every route the app's router knows is documented, and every
//     documented operation is served (the router's list comes from the
//     sidecar-only GET /internal/routes);
//   - every documented example request, sent to the real app in document
//     order, is itself valid, and is answered with a status the document
//     lists and a body that validates against that status's schema; the
//     links of a response (report -> its case, its votes) are followed the
//     same way, so the success schemas meet real answers.
//
// The caller of an example is the user it names (reporter_id or user_id in
// the body, else the user_id path or query parameter), with the ops role
// when the operation requires it; an example that names no one is sent by
// an operator. Sidecar-only routes get the app API token. Operator settings
// the examples change are put back afterwards.

func init() {
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
}

// contract is one service's document, loaded and as raw JSON (for the
// order of paths and examples, which the loaded form does not keep).
type contract struct {
	service string
	raw     []byte
	doc     *openapi3.T
}

func loadContract(t *testing.T, ctx context.Context, service string) contract {
	t.Helper()
	resp, err := platform.Client{Base: plat.AppURL(service)}.Do(ctx, "GET", openapi.DocumentPath, nil)
	must(t, resp, err, 200)
	committed, err := openapi.Document(service)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, committed) {
		t.Fatalf("%s serves a document other than apps/kit/openapi/%s.json", service, service)
	}
	doc, err := openapi3.NewLoader().LoadFromData(resp.Body)
	if err != nil {
		t.Fatalf("%s.json does not load: %v", service, err)
	}
	if err := doc.Validate(ctx); err != nil { // examples included
		t.Fatalf("%s.json is not a valid OpenAPI document: %v", service, err)
	}
	return contract{service: service, raw: resp.Body, doc: doc}
}

func TestEveryRouteIsDocumentedAndEveryDocumentedRouteIsServed(t *testing.T) {
	ctx := ctxT(t)
	for _, service := range openapi.Services {
		t.Run(service, func(t *testing.T) {
			loadContract(t, ctx, service)
			resp, err := plat.AsSidecar(service).Do(ctx, "GET", openapi.RoutesPath, nil)
			must(t, resp, err, 200)
			var list openapi.RouteList
			if err := resp.JSON(&list); err != nil || len(list.Routes) == 0 {
				t.Fatalf("route list %s: %v", resp, err)
			}
			committed, _ := openapi.Document(service)
			if err := openapi.Check(committed, list.Routes); err != nil {
				t.Fatalf("%s.json and the router disagree: %v", service, err)
			}
			// Without the app token the route list is refused like every
			// sidecar-only route.
			resp, err = platform.Client{Base: plat.AppURL(service)}.Do(ctx, "GET", openapi.RoutesPath, nil)
			must(t, resp, err, 401)
			t.Logf("%s: %d routes, all documented, all served", service, len(list.Routes))
		})
	}
}

func TestDocumentedExamplesMatchTheRunningServices(t *testing.T) {
	ctx := ctxT(t)
	restoreSettingsAfter(t, ctx)
	for _, service := range openapi.Services {
		t.Run(service, func(t *testing.T) {
			c := loadContract(t, ctx, service)
			r := &exampleRun{t: t, ctx: ctx, c: c, called: map[string]int{}, statuses: map[int]int{}}
			r.runAll()
			var missing []string
			for _, op := range c.operations() {
				if r.called[op.Operation.OperationID] == 0 {
					missing = append(missing, op.Method+" "+op.Path)
				}
			}
			if len(missing) > 0 {
				t.Errorf("operations no example reached: %v", missing)
			}
			t.Logf("%s: %d operations, %d example requests, %d links followed; statuses %v",
				service, len(c.operations()), r.sent, r.links, r.statuses)
		})
	}
}

// operations lists every operation in document order.
func (c contract) operations() []*routers.Route {
	var out []*routers.Route
	paths := rawField(c.raw, "paths")
	for _, p := range orderedKeys(paths) {
		item := c.doc.Paths.Value(p)
		for _, m := range orderedKeys(rawField(paths, p)) {
			if op := item.GetOperation(strings.ToUpper(m)); op != nil {
				out = append(out, &routers.Route{Spec: c.doc, Path: p, PathItem: item, Method: strings.ToUpper(m), Operation: op})
			}
		}
	}
	return out
}

func (c contract) operation(id string) *routers.Route {
	for _, r := range c.operations() {
		if r.Operation.OperationID == id {
			return r
		}
	}
	return nil
}

type exampleRun struct {
	t        *testing.T
	ctx      context.Context
	c        contract
	called   map[string]int
	statuses map[int]int
	sent     int
	links    int
}

// runAll sends every example request of the document, in its order.
func (r *exampleRun) runAll() {
	for _, route := range r.c.operations() {
		raw := rawField(r.c.raw, "paths", route.Path, strings.ToLower(route.Method))
		bodies := rawField(raw, "requestBody", "content", "application/json", "examples")
		if route.Operation.RequestBody == nil {
			r.send(route, "parameters", nil, nil, "")
			continue
		}
		names := orderedKeys(bodies)
		if len(names) == 0 {
			r.t.Errorf("%s %s has a request body but no example", route.Method, route.Path)
		}
		for _, name := range names {
			value := rawField(bodies, name, "value")
			r.send(route, name, value, nil, "")
		}
	}
}

// send builds the request of one example (path, query and header
// parameters from the parameters' examples, overridden by linkParams),
// validates it, sends it as its caller and validates the answer. caller
// is the user of the request that led here through a link, if any.
func (r *exampleRun) send(route *routers.Route, name string, body json.RawMessage, linkParams map[string]string, caller string) {
	t := r.t
	what := fmt.Sprintf("%s %s (example %q)", route.Method, route.Path, name)
	params := append(slices.Clone(route.PathItem.Parameters), route.Operation.Parameters...)
	pathParams, query, headers := map[string]string{}, url.Values{}, http.Header{}
	for _, pr := range params {
		p := pr.Value
		v, ok := linkParams[p.Name]
		if !ok && p.Example != nil {
			v, ok = fmt.Sprint(p.Example), true
		}
		if !ok {
			if p.In == openapi3.ParameterInPath {
				t.Fatalf("%s: path parameter %s has no example", what, p.Name)
			}
			continue
		}
		switch p.In {
		case openapi3.ParameterInPath:
			pathParams[p.Name] = v
		case openapi3.ParameterInQuery:
			query.Set(p.Name, v)
		case openapi3.ParameterInHeader:
			headers.Set(p.Name, v)
		}
	}
	path := route.Path
	for k, v := range pathParams {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	target := plat.AppURL(r.c.service) + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}

	if caller == "" {
		caller = callerOf(body, pathParams, query)
	}
	if required, _ := route.Operation.Extensions["x-required-roles"].([]any); caller == "operator" || slices.Contains(required, any("ops")) {
		headers.Set("Authorization", "Bearer "+platform.Token(caller, "ops"))
	} else {
		headers.Set("Authorization", "Bearer "+platform.Token(caller))
	}
	if route.Operation.Security != nil && len(*route.Operation.Security) > 0 {
		if _, sidecar := (*route.Operation.Security)[0]["sidecarToken"]; sidecar {
			headers.Del("Authorization")
			headers.Set("dapr-api-token", plat.AppToken(r.c.service))
		}
	} else {
		headers.Del("Authorization") // a public route
	}
	if body != nil {
		headers.Set("Content-Type", "application/json")
	}

	newRequest := func(ctx context.Context) *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, route.Method, target, rd)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		req.Header = headers.Clone()
		return req
	}
	input := &openapi3filter.RequestValidationInput{
		Request: newRequest(r.ctx), PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateRequest(r.ctx, input); err != nil {
		t.Errorf("%s: the documented request is not valid against the document: %v", what, err)
		return
	}

	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	req := newRequest(ctx)
	input.Request = req
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	defer resp.Body.Close()
	var data []byte
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel() // a stream never ends: its headers are the answer
	} else if data, err = io.ReadAll(resp.Body); err != nil {
		t.Errorf("%s: read answer: %v", what, err)
		return
	}
	r.sent++
	r.called[route.Operation.OperationID]++
	r.statuses[resp.StatusCode]++
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(data)), Options: input.Options,
	}
	if err := openapi3filter.ValidateResponse(r.ctx, out); err != nil {
		t.Errorf("%s: answer %d %s does not match the document: %v", what, resp.StatusCode, truncate(data), err)
		return
	}
	r.follow(route, resp.StatusCode, data, caller)
}

// follow sends the requests the answer's documented links lead to.
func (r *exampleRun) follow(route *routers.Route, status int, data []byte, caller string) {
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil || len(ref.Value.Links) == 0 {
		return
	}
	var answer any
	if err := json.Unmarshal(data, &answer); err != nil {
		r.t.Errorf("%s %s: answer with links is not JSON: %v", route.Method, route.Path, err)
		return
	}
	names := make([]string, 0, len(ref.Value.Links))
	for name := range ref.Value.Links {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		link := ref.Value.Links[name].Value
		to := r.c.operation(link.OperationID)
		if to == nil {
			r.t.Errorf("link %s leads to unknown operation %s", name, link.OperationID)
			continue
		}
		params := map[string]string{}
		for p, expr := range link.Parameters {
			v, ok := resolve(fmt.Sprint(expr), answer)
			if !ok {
				r.t.Errorf("link %s: %v not in the answer %s", name, expr, truncate(data))
				return
			}
			params[p] = v
		}
		var body json.RawMessage
		if to.Operation.RequestBody != nil {
			examples := rawField(r.c.raw, "paths", to.Path, strings.ToLower(to.Method), "requestBody", "content", "application/json", "examples")
			if keys := orderedKeys(examples); len(keys) > 0 {
				body = rawField(examples, keys[0], "value")
			}
		}
		r.links++
		r.send(to, "link "+name, body, params, caller)
	}
}

// resolve evaluates a link's runtime expression "$response.body#/a/b".
func resolve(expr string, answer any) (string, bool) {
	ptr, ok := strings.CutPrefix(expr, "$response.body#")
	if !ok {
		return expr, true // a constant
	}
	v := answer
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, isMap := v.(map[string]any)
		if !isMap {
			return "", false
		}
		if v, ok = m[seg]; !ok {
			return "", false
		}
	}
	s, isString := v.(string)
	return s, isString && s != ""
}

// callerOf is the user an example names, else "operator".
func callerOf(body json.RawMessage, pathParams map[string]string, query url.Values) string {
	var fields map[string]any
	_ = json.Unmarshal(body, &fields)
	for _, k := range []string{"reporter_id", "user_id"} {
		if s, ok := fields[k].(string); ok && s != "" {
			return s
		}
	}
	if u := pathParams["user_id"]; u != "" {
		return u
	}
	if u := query.Get("user_id"); u != "" {
		return u
	}
	return "operator"
}

// restoreSettingsAfter puts every operator setting back as it was once the
// test ends: the examples change policies, the pool rule, fatigue limits,
// the adjustment rule and the reward rules, which other tests rely on.
func restoreSettingsAfter(t *testing.T, ctx context.Context) {
	t.Helper()
	type setting struct{ app, path string }
	read := func(app, path string) map[string]any {
		resp, err := plat.As(app, "ops-openapi", "ops").Do(ctx, "GET", path, nil)
		return must(t, resp, err, 200).Map()
	}
	saved := map[setting]any{}
	policies, _ := read("report", "/v1/policies")["items"].([]any)
	for _, p := range policies {
		m, _ := p.(map[string]any)
		saved[setting{"report", "/v1/policies/" + fmt.Sprint(m["kind"])}] = m
	}
	saved[setting{"report", "/v1/intake-limits"}] = read("report", "/v1/intake-limits")
	for _, path := range []string{"/v1/pool-rule", "/v1/fatigue", "/v1/adjustment", "/v1/gold"} {
		saved[setting{"reviewer", path}] = read("reviewer", path)
	}
	rules := read("reward", "/v1/rules")
	delete(rules, "version")
	saved[setting{"reward", "/v1/rules"}] = rules
	t.Cleanup(func() {
		for s, body := range saved {
			resp, err := plat.As(s.app, "ops-openapi", "ops").Do(context.Background(), "PUT", s.path, body)
			if err != nil || resp.Status != 200 {
				t.Errorf("restore %s %s: %v %v", s.app, s.path, resp, err)
			}
		}
	})
}

// rawField walks raw JSON objects by key; nil when a key is missing.
func rawField(raw json.RawMessage, keys ...string) json.RawMessage {
	for _, k := range keys {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		raw = m[k]
	}
	return raw
}

// orderedKeys lists an object's keys in the order they are written.
func orderedKeys(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
