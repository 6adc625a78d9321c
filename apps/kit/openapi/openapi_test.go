package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/openapi"
)

const appToken = "a-sidecar-token-of-at-least-32-bytes!"

func engine(t *testing.T, service string) *gin.Engine {
	t.Helper()
	r := httpx.NewEngine(slog.New(slog.DiscardHandler), appToken, func(context.Context) error { return nil })
	openapi.Mount(r, service)
	return r
}

func get(h http.Handler, path string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func document(t *testing.T, service string) map[string]any {
	t.Helper()
	b, err := openapi.Document(service)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s.json is not JSON: %v", service, err)
	}
	return d
}

func TestEachServiceServesItsDocumentWithoutAToken(t *testing.T) {
	t.Parallel()
	for _, s := range openapi.Services {
		rec := get(engine(t, s), "/openapi.json")
		want, _ := openapi.Document(s)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("%s: GET /openapi.json = %d, %d bytes; want 200 and the embedded document", s, rec.Code, rec.Body.Len())
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", s, ct)
		}
		d := document(t, s)
		if v, _ := d["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
			t.Errorf("%s: openapi %q, want 3.0.x", s, v)
		}
	}
}

func TestAServiceWithoutADocumentIsAMistakeInMain(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("Mount of an unknown service did not panic")
		}
	}()
	engine(t, "billing")
}

func TestTheRouteListAnswersOnlyTheSidecar(t *testing.T) {
	t.Parallel()
	r := engine(t, "report")
	r.POST("/v1/after-mount", func(c *gin.Context) {})
	if rec := get(r, openapi.RoutesPath); rec.Code != http.StatusUnauthorized {
		t.Fatalf("without the app token: %d, want 401", rec.Code)
	}
	rec := get(r, openapi.RoutesPath, "dapr-api-token", appToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("with the app token: %d %s", rec.Code, rec.Body)
	}
	var list openapi.RouteList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	for _, want := range []openapi.Route{{"GET", "/openapi.json"}, {"GET", "/internal/routes"}, {"GET", "/healthz"}, {"POST", "/v1/after-mount"}} {
		found := false
		for _, got := range list.Routes {
			found = found || got == want
		}
		if !found {
			t.Errorf("route list lacks %v: %v", want, list.Routes)
		}
	}
}

func TestCheckNamesUndocumentedAndUnservedRoutes(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"openapi":"3.0.3","paths":{
		"/v1/cases/{case_id}":{"get":{},"parameters":[]},
		"/v1/cases/{case_id}/votes":{"post":{}},
		"/v1/gone":{"delete":{}}}}`)
	routes := []openapi.Route{{"GET", "/v1/cases/:id"}, {"POST", "/v1/cases/:id/votes"}, {"PUT", "/v1/cases/:id"}, {"GET", "/v1/new"}}
	err := openapi.Check(doc, routes)
	var m *openapi.Mismatch
	if !errors.As(err, &m) {
		t.Fatalf("Check = %v, want a *Mismatch", err)
	}
	wantUndocumented := []openapi.Route{{"PUT", "/v1/cases/:id"}, {"GET", "/v1/new"}}
	wantUnserved := []openapi.Route{{"DELETE", "/v1/gone"}}
	if !reflect.DeepEqual(m.Undocumented, wantUndocumented) || !reflect.DeepEqual(m.Unserved, wantUnserved) {
		t.Fatalf("undocumented %v, unserved %v; want %v and %v", m.Undocumented, m.Unserved, wantUndocumented, wantUnserved)
	}
	for _, s := range []string{"served but not documented: PUT /v1/cases/:id", "documented but not served: DELETE /v1/gone"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if err := openapi.Check(doc, []openapi.Route{{"GET", "/v1/cases/:id"}, {"POST", "/v1/cases/:x/votes"}, {"DELETE", "/v1/gone"}}); err != nil {
		t.Fatalf("same routes with other parameter names: %v", err)
	}
	if err := openapi.Check([]byte(`not json`), nil); err == nil {
		t.Fatal("Check accepted a document that is not JSON")
	}
}

// Every engine built by kit (httpx.NewEngine plus Mount) serves the same
// few routes; each document must describe them, the same way.
func TestEveryDocumentDescribesTheKitRoutes(t *testing.T) {
	t.Parallel()
	for _, s := range openapi.Services {
		b, _ := openapi.Document(s)
		err := openapi.Check(b, openapi.Routes(engine(t, s)))
		var m *openapi.Mismatch
		if err != nil && !errors.As(err, &m) {
			t.Fatalf("%s: %v", s, err)
		}
		if m != nil && len(m.Undocumented) > 0 {
			t.Errorf("%s.json lacks the kit's routes: %v", s, m.Undocumented)
		}
	}
}

// The documents are written by hand, three times over for what the
// services share: a component or a kit route under the same name must be
// the same in every document that has it.
func TestSharedPartsAreIdenticalAcrossDocuments(t *testing.T) {
	t.Parallel()
	seen := map[string]any{}
	origin := map[string]string{}
	kitPaths := map[string]bool{}
	for _, r := range openapi.Routes(engine(t, "report")) {
		kitPaths[strings.ReplaceAll(r.Path, ":", "")] = true
	}
	for _, s := range openapi.Services {
		d := document(t, s)
		components, _ := d["components"].(map[string]any)
		for kind, v := range components {
			m, _ := v.(map[string]any)
			for name, def := range m {
				compare(t, seen, origin, "components/"+kind+"/"+name, s, def)
			}
		}
		paths, _ := d["paths"].(map[string]any)
		for p, item := range paths {
			if kitPaths[p] {
				compare(t, seen, origin, "paths"+p, s, item)
			}
		}
	}
}

func compare(t *testing.T, seen map[string]any, origin map[string]string, key, service string, def any) {
	t.Helper()
	if prev, ok := seen[key]; ok && !reflect.DeepEqual(prev, def) {
		t.Errorf("%s differs between %s.json and %s.json", key, origin[key], service)
		return
	}
	if _, ok := seen[key]; !ok {
		seen[key], origin[key] = def, service
	}
}

// docs/openapi shows the same files (links, not copies that could go stale).
func TestDocsShowTheServedDocuments(t *testing.T) {
	t.Parallel()
	for _, s := range openapi.Services {
		got, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "openapi", s+".json"))
		want, _ := openapi.Document(s)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/openapi/%s.json is not apps/kit/openapi/%s.json: %v", s, s, err)
		}
	}
}
