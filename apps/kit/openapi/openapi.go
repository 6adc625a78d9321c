// Package openapi holds the contract of every service as an OpenAPI 3.0
// document (report.json, reviewer.json, reward.json beside this file; docs/
// links to them), serves a service's document at GET /openapi.json and lets
// the contract test compare it with the routes the service's router knows.
//
// The documents live here, not in docs/, because go:embed cannot reach
// outside the module that embeds them; they are the source, written by hand,
// and what an app serves is the file byte for byte.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed report.json reviewer.json reward.json
var documents embed.FS

// Services are the services that have a document.
var Services = []string{"report", "reviewer", "reward"}

// Document returns service's OpenAPI document (JSON).
func Document(service string) ([]byte, error) {
	b, err := documents.ReadFile(service + ".json")
	if err != nil {
		return nil, fmt.Errorf("no OpenAPI document for service %q", service)
	}
	return b, nil
}

// Paths where Mount serves the document and the router's route list.
const (
	DocumentPath = "/openapi.json"
	// RoutesPath is sidecar-only (behind the app API token like every
	// /internal route): it exists so that the contract test can see what
	// the router of the running binary serves, without the services
	// building their engines anywhere but in their main.go.
	RoutesPath = "/internal/routes"
)

// Route is one route a router serves: its method and its path in gin's
// syntax ("/v1/cases/:id").
type Route struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// RouteList is the answer of RoutesPath.
type RouteList struct {
	Routes []Route `json:"routes"`
}

// Mount serves service's document at GET /openapi.json (no token) and the
// engine's routes at GET /internal/routes. The route list is read at each
// request, so routes registered after Mount are listed too. It panics for a
// service without a document: that is a mistake in main.go, not a condition
// to handle.
func Mount(r *gin.Engine, service string) {
	doc, err := Document(service)
	if err != nil {
		panic(err)
	}
	r.GET(DocumentPath, func(c *gin.Context) { c.Data(http.StatusOK, "application/json", doc) })
	r.GET(RoutesPath, func(c *gin.Context) { c.JSON(http.StatusOK, RouteList{Routes: Routes(r)}) })
}

// Routes lists what r serves, sorted by path then method.
func Routes(r *gin.Engine) []Route {
	var out []Route
	for _, ri := range r.Routes() {
		out = append(out, Route{Method: ri.Method, Path: ri.Path})
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

// Mismatch is what Check found: routes the router serves that the
// document does not describe, and operations the document describes that
// the router does not serve.
type Mismatch struct {
	Undocumented []Route
	Unserved     []Route
}

func (m *Mismatch) Error() string {
	var parts []string
	for _, r := range m.Undocumented {
		parts = append(parts, "served but not documented: "+r.Method+" "+r.Path)
	}
	for _, r := range m.Unserved {
		parts = append(parts, "documented but not served: "+r.Method+" "+r.Path)
	}
	return strings.Join(parts, "; ")
}

// methods are the OpenAPI path item fields that are operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Operations lists the operations doc describes, paths in OpenAPI's syntax
// ("/v1/cases/{case_id}").
func Operations(doc []byte) ([]Route, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("OpenAPI document is not JSON: %w", err)
	}
	var out []Route
	for path, item := range d.Paths {
		for _, m := range methods {
			if _, ok := item[m]; ok {
				out = append(out, Route{Method: strings.ToUpper(m), Path: path})
			}
		}
	}
	return out, nil
}

// Check compares doc's operations with routes. Path parameters match
// whatever their names ("/v1/cases/:id" is "/v1/cases/{case_id}"). It
// returns a *Mismatch unless both describe the same set of routes.
func Check(doc []byte, routes []Route) error {
	ops, err := Operations(doc)
	if err != nil {
		return err
	}
	documented := map[string]bool{}
	for _, o := range ops {
		documented[key(o)] = true
	}
	served := map[string]bool{}
	m := &Mismatch{}
	for _, r := range routes {
		served[key(r)] = true
		if !documented[key(r)] {
			m.Undocumented = append(m.Undocumented, r)
		}
	}
	for _, o := range ops {
		if !served[key(o)] {
			m.Unserved = append(m.Unserved, o)
		}
	}
	if len(m.Undocumented) == 0 && len(m.Unserved) == 0 {
		return nil
	}
	slices.SortFunc(m.Undocumented, compareRoutes)
	slices.SortFunc(m.Unserved, compareRoutes)
	return m
}

func compareRoutes(a, b Route) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) }

// key is a route with every path parameter written "{}", in either syntax.
func key(r Route) string {
	segs := strings.Split(r.Path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") ||
			(strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")) {
			segs[i] = "{}"
		}
	}
	return strings.ToUpper(r.Method) + " " + strings.Join(segs, "/")
}
