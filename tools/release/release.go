package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Subset names and colours of the release model (manifests/README.md).
const (
	stable = "stable"
	canary = "canary"
)

var colours = []string{"blue", "green"}

// errRefused marks a command the tool will not carry out because the state
// it would leave (or the state it found) is invalid.
var errRefused = errors.New("refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRefused, fmt.Sprintf(format, args...))
}

// A release is the traffic state of one app, read from its release file: the
// VirtualService's routes and the DestinationRule's subsets. The yaml nodes
// it keeps are the scalars a command may rewrite in place.
type release struct {
	app     string
	routes  []route
	drHost  string
	subsets []subset
}

type route struct {
	canaryHeader bool // matches header x-canary exact "always"
	dests        []destination
}

type destination struct {
	host, subset string
	weight       *yaml.Node // nil when the destination has no weight
}

type subset struct {
	name    string
	labels  map[string]string
	version *yaml.Node
}

func (s subset) colour() string { return s.labels["version"] }

// parseRelease reads a release file: exactly two documents, a VirtualService
// and a DestinationRule, both named after the app.
func parseRelease(app string, src []byte) (*release, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var vs, dr *yaml.Node
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		docs++
		body := doc.Content[0]
		kind, name := scalar(body, "kind"), scalar(get(body, "metadata"), "name")
		if !strings.HasPrefix(scalar(body, "apiVersion"), "networking.istio.io/") {
			return nil, refuse("document %d is %s %s, not an Istio networking resource", docs, scalar(body, "apiVersion"), kind)
		}
		if name != app {
			return nil, refuse("%s is named %q, want %q", kind, name, app)
		}
		switch {
		case kind == "VirtualService" && vs == nil:
			vs = body
		case kind == "DestinationRule" && dr == nil:
			dr = body
		default:
			return nil, refuse("unexpected document %d: %s %s", docs, kind, name)
		}
	}
	if docs != 2 || vs == nil || dr == nil {
		return nil, refuse("want exactly a VirtualService and a DestinationRule, found %d documents", docs)
	}
	r := &release{app: app, drHost: scalar(get(dr, "spec"), "host")}
	for _, h := range items(get(get(vs, "spec"), "http")) {
		rt := route{canaryHeader: matchesCanaryHeader(get(h, "match"))}
		for _, d := range items(get(h, "route")) {
			dest := get(d, "destination")
			rt.dests = append(rt.dests, destination{host: scalar(dest, "host"), subset: scalar(dest, "subset"), weight: get(d, "weight")})
		}
		r.routes = append(r.routes, rt)
	}
	for _, s := range items(get(get(dr, "spec"), "subsets")) {
		sub := subset{name: scalar(s, "name"), labels: map[string]string{}}
		labels := get(s, "labels")
		if labels != nil && labels.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(labels.Content); i += 2 {
				sub.labels[labels.Content[i].Value] = labels.Content[i+1].Value
				if labels.Content[i].Value == "version" {
					sub.version = labels.Content[i+1]
				}
			}
		}
		r.subsets = append(r.subsets, sub)
	}
	return r, nil
}

func matchesCanaryHeader(match *yaml.Node) bool {
	for _, m := range items(match) {
		if scalar(get(get(get(m, "headers"), "x-canary"), "exact"), "") == "always" {
			return true
		}
	}
	return false
}

// defaultRoute is the last route: the weighted split between stable and canary.
func (r *release) defaultRoute() route { return r.routes[len(r.routes)-1] }

func (r *release) subset(name string) (subset, bool) {
	i := slices.IndexFunc(r.subsets, func(s subset) bool { return s.name == name })
	if i < 0 {
		return subset{}, false
	}
	return r.subsets[i], true
}

func (r *release) weightOf(name string) *yaml.Node {
	for _, d := range r.defaultRoute().dests {
		if d.subset == name {
			return d.weight
		}
	}
	return nil
}

// validate checks the release-file contract and that both subsets select
// pods of a Deployment in the prod overlay.
func (r *release) validate(c *cluster) error {
	if len(r.subsets) != 2 {
		return refuse("DestinationRule %s must have exactly the subsets stable and canary, has %d", r.app, len(r.subsets))
	}
	seen := map[string]bool{}
	for _, s := range r.subsets {
		if s.name != stable && s.name != canary {
			return refuse("DestinationRule %s: unknown subset %q (want stable and canary)", r.app, s.name)
		}
		if seen[s.name] {
			return refuse("DestinationRule %s: subset %s twice", r.app, s.name)
		}
		seen[s.name] = true
		if !slices.Contains(colours, s.colour()) {
			return refuse("DestinationRule %s: subset %s has version %q, want blue or green", r.app, s.name, s.colour())
		}
	}
	st, _ := r.subset(stable)
	ca, _ := r.subset(canary)
	if st.colour() == ca.colour() {
		return refuse("DestinationRule %s: stable and canary both select version %s", r.app, st.colour())
	}
	if len(r.routes) < 2 {
		return refuse("VirtualService %s needs the x-canary route first and the weighted default route last", r.app)
	}
	first := r.routes[0]
	if !first.canaryHeader || len(first.dests) != 1 || first.dests[0].subset != canary {
		return refuse("VirtualService %s: the first route must send header x-canary: always to subset canary", r.app)
	}
	last := r.defaultRoute()
	if len(last.dests) != 2 || !slices.ContainsFunc(last.dests, func(d destination) bool { return d.subset == stable }) ||
		!slices.ContainsFunc(last.dests, func(d destination) bool { return d.subset == canary }) {
		return refuse("VirtualService %s: the last route must have exactly the destinations stable and canary", r.app)
	}
	for i, rt := range r.routes {
		sum := 0
		for _, d := range rt.dests {
			if shortHost(d.host) != shortHost(r.drHost) {
				return refuse("VirtualService %s route %d: host %s is not the DestinationRule's host %s", r.app, i+1, d.host, r.drHost)
			}
			if _, ok := r.subset(d.subset); !ok {
				return refuse("VirtualService %s route %d: subset %q is not in the DestinationRule", r.app, i+1, d.subset)
			}
			w := 100
			if d.weight != nil {
				n, err := strconv.Atoi(d.weight.Value)
				if err != nil || n < 0 || n > 100 {
					return refuse("VirtualService %s route %d: weight %q of subset %s is not in 0-100", r.app, i+1, d.weight.Value, d.subset)
				}
				w = n
			} else if len(rt.dests) > 1 {
				return refuse("VirtualService %s route %d: subset %s has no weight", r.app, i+1, d.subset)
			}
			sum += w
		}
		if sum != 100 {
			return refuse("VirtualService %s route %d: weights sum to %d, not 100", r.app, i+1, sum)
		}
	}
	for _, s := range r.subsets {
		if err := c.selects(r.drHost, s.labels); err != nil {
			return refuse("subset %s of %s (version %s): %v", s.name, r.app, s.colour(), err)
		}
	}
	return nil
}

func shortHost(h string) string { return strings.SplitN(h, ".", 2)[0] }

// A command names the state a release moves to.
type command struct {
	name   string
	weight int    // canary
	colour string // switch
}

func parseCommand(args []string) (command, error) {
	if len(args) == 0 {
		return command{}, errors.New("no command")
	}
	c := command{name: args[0]}
	want := 1
	switch c.name {
	case "canary":
		want = 2
		if len(args) == 2 {
			w, err := strconv.Atoi(args[1])
			if err != nil {
				return c, refuse("canary weight %q is not a whole number", args[1])
			}
			if w < 0 || w > 100 {
				return c, refuse("canary weight %d is outside 0-100", w)
			}
			c.weight = w
		}
	case "switch":
		want = 2
		if len(args) == 2 {
			if !slices.Contains(colours, args[1]) {
				return c, refuse("switch to %q: colours are blue and green", args[1])
			}
			c.colour = args[1]
		}
	case "promote", "rollback":
	default:
		return c, fmt.Errorf("unknown command %q", c.name)
	}
	if len(args) != want {
		return c, fmt.Errorf("%s takes %d argument(s)", c.name, want-1)
	}
	return c, nil
}

// apply returns the release file rewritten for the command. Only the scalars
// that change are replaced, in place, so comments, order and layout stay.
func (r *release) apply(src []byte, c command) ([]byte, error) {
	st, _ := r.subset(stable)
	ca, _ := r.subset(canary)
	sw, cw := r.weightOf(stable), r.weightOf(canary)
	var edits []edit
	setWeights := func(s, k int) {
		edits = append(edits, edit{sw, strconv.Itoa(s)}, edit{cw, strconv.Itoa(k)})
	}
	switch c.name {
	case "canary":
		setWeights(100-c.weight, c.weight)
	case "rollback":
		setWeights(100, 0)
	case "promote":
		edits = append(edits, edit{st.version, ca.colour()}, edit{ca.version, st.colour()})
		setWeights(100, 0)
	case "switch":
		if st.colour() != c.colour {
			edits = append(edits, edit{st.version, c.colour}, edit{ca.version, st.colour()})
		}
		setWeights(100, 0)
	default:
		return nil, fmt.Errorf("unknown command %q", c.name)
	}
	return replaceScalars(src, edits)
}

type edit struct {
	node  *yaml.Node
	value string
}

// replaceScalars rewrites each edited scalar at its position in src, in the
// scalar's own quoting style. It refuses scalars it cannot find verbatim
// (block scalars, escapes) rather than re-encoding the whole file.
func replaceScalars(src []byte, edits []edit) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	// Right to left, so that an edit never shifts the column of the next one.
	slices.SortFunc(edits, func(a, b edit) int {
		if a.node.Line != b.node.Line {
			return b.node.Line - a.node.Line
		}
		return b.node.Column - a.node.Column
	})
	for _, e := range edits {
		n := e.node
		if n == nil || n.Kind != yaml.ScalarNode {
			return nil, refuse("missing value to rewrite")
		}
		if n.Value == e.value {
			continue
		}
		oldText, newText, err := quote(n, e.value)
		if err != nil {
			return nil, err
		}
		line := []rune(lines[n.Line-1])
		col := n.Column - 1
		if col+len([]rune(oldText)) > len(line) || string(line[col:col+len([]rune(oldText))]) != oldText {
			return nil, refuse("line %d: cannot find %s to rewrite in place", n.Line, oldText)
		}
		lines[n.Line-1] = string(line[:col]) + newText + string(line[col+len([]rune(oldText)):])
	}
	return []byte(strings.Join(lines, "")), nil
}

func quote(n *yaml.Node, value string) (oldText, newText string, err error) {
	switch n.Style {
	case 0:
		return n.Value, value, nil
	case yaml.DoubleQuotedStyle:
		return `"` + n.Value + `"`, `"` + value + `"`, nil
	case yaml.SingleQuotedStyle:
		return "'" + n.Value + "'", "'" + value + "'", nil
	}
	return "", "", refuse("line %d: %q is written in a style the tool does not rewrite", n.Line, n.Value)
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar returns the scalar value of key in n ("" for n itself), or "".
func scalar(n *yaml.Node, key string) string {
	if key != "" {
		n = get(n, key)
	}
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
