package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govern/kit/text"
)

// FieldType says how a form field becomes a JSON value.
type FieldType int

// The field types of the operator settings.
const (
	Int FieldType = iota
	Float
	Duration
	Choice
	List
)

// Field is one editable field of a setting.
type Field struct {
	Name    string
	Type    FieldType
	Choices []string // for Choice
}

// Setting is one operator setting: where it lives and what it holds. The
// console checks each field's type; the app's PUT checks the rest (and its
// 4xx message is shown).
type Setting struct {
	Key    string // form path: /settings/<Key>
	Title  string
	App    string
	Path   string // the app's GET and PUT route
	Fields []Field
}

// Kinds of reported targets (one vote policy each).
var Kinds = []string{"item", "post", "comment", "chat", "review"}

// Statuses a case can have.
var Statuses = []string{"pending", "voting", "upheld", "rejected", "undecided", "escalated"}

var policyFields = []Field{
	{Name: "jury_size", Type: Int}, {Name: "quorum", Type: Int}, {Name: "juror_timeout", Type: Duration},
	{Name: "max_duration", Type: Duration}, {Name: "max_substitutes", Type: Int},
	{Name: "on_timeout", Type: Choice, Choices: []string{"undecided", "escalate"}}, {Name: "cooldown", Type: Duration},
}

// Settings lists every editable setting, in page order.
func Settings() []Setting {
	var out []Setting
	for _, k := range Kinds {
		out = append(out, Setting{Key: "policy-" + k, Title: "Vote policy: " + k, App: "report", Path: "/v1/policies/" + k, Fields: policyFields})
	}
	return append(out,
		Setting{Key: "pool-rule", Title: "Juror pool rule", App: "reviewer", Path: "/v1/pool-rule", Fields: []Field{
			{Name: "required_tags", Type: List}, {Name: "active_within", Type: Duration}}},
		Setting{Key: "fatigue", Title: "Fatigue limits", App: "reviewer", Path: "/v1/fatigue", Fields: []Field{
			{Name: "max_per_day", Type: Int}, {Name: "max_open", Type: Int}, {Name: "cooldown", Type: Duration}}},
		Setting{Key: "adjustment", Title: "Automatic suspension", App: "reviewer", Path: "/v1/adjustment", Fields: []Field{
			{Name: "interval", Type: Duration}, {Name: "window", Type: Int}, {Name: "min_tasks", Type: Int},
			{Name: "max_timeout_ratio", Type: Float}, {Name: "min_agreement_rate", Type: Float}, {Name: "suspension", Type: Duration}}},
		Setting{Key: "rules", Title: "Reward rules", App: "reward", Path: "/v1/rules", Fields: []Field{
			{Name: "points_per_vote", Type: Int}, {Name: "majority_bonus", Type: Int}, {Name: "daily_cap", Type: Int}}},
	)
}

// FindSetting returns the setting with key.
func FindSetting(key string) (Setting, bool) {
	for _, s := range Settings() {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// InputError is bad form or query input, shown to the operator with 400.
type InputError struct{ Message string }

func (e *InputError) Error() string { return e.Message }

func badInput(format string, a ...any) error { return &InputError{Message: fmt.Sprintf(format, a...)} }

// Body turns a submitted form into the setting's JSON body. Every field is
// required and must have its type; unknown fields are refused.
func (s Setting) Body(form url.Values) (map[string]any, error) {
	for k := range form {
		if k != csrfField && !slices.ContainsFunc(s.Fields, func(f Field) bool { return f.Name == k }) {
			return nil, badInput("unknown field %q", k)
		}
	}
	body := map[string]any{}
	for _, f := range s.Fields {
		raw := strings.TrimSpace(form.Get(f.Name))
		if raw == "" && f.Type != List {
			return nil, badInput("%s is required", f.Name)
		}
		if !text.Clean(raw) {
			return nil, badInput("%s holds NUL or invalid UTF-8", f.Name)
		}
		switch f.Type {
		case Int:
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return nil, badInput("%s must be a whole number, not %q", f.Name, raw)
			}
			body[f.Name] = n
		case Float:
			x, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				return nil, badInput("%s must be a number, not %q", f.Name, raw)
			}
			body[f.Name] = x
		case Duration:
			if _, err := time.ParseDuration(raw); err != nil {
				return nil, badInput("%s must be a duration such as 30s or 24h, not %q", f.Name, raw)
			}
			body[f.Name] = raw
		case Choice:
			if !slices.Contains(f.Choices, raw) {
				return nil, badInput("%s must be one of %s", f.Name, strings.Join(f.Choices, ", "))
			}
			body[f.Name] = raw
		case List:
			items := []string{}
			for _, part := range strings.Split(raw, ",") {
				if p := strings.TrimSpace(part); p != "" {
					items = append(items, p)
				}
			}
			body[f.Name] = items
		}
	}
	return body, nil
}

// Value renders a setting's current JSON value in its form field.
func (f Field) Value(current map[string]any) string {
	v, ok := current[f.Name]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// CaseQuery is the cases page's filter, checked before the report API sees it.
type CaseQuery struct {
	Status, Kind                string
	CreatedAfter, CreatedBefore string // as typed (datetime-local or RFC 3339)
	Cursor                      string
	Limit                       int
}

// ParseCaseQuery reads and checks the cases page's query.
func ParseCaseQuery(q url.Values) (CaseQuery, error) {
	cq := CaseQuery{Status: q.Get("status"), Kind: q.Get("kind"), CreatedAfter: q.Get("created_after"),
		CreatedBefore: q.Get("created_before"), Cursor: q.Get("cursor"), Limit: 20}
	if cq.Status != "" && !slices.Contains(Statuses, cq.Status) {
		return cq, badInput("unknown status %q: one of %s", cq.Status, strings.Join(Statuses, ", "))
	}
	if cq.Kind != "" && !slices.Contains(Kinds, cq.Kind) {
		return cq, badInput("unknown kind %q: one of %s", cq.Kind, strings.Join(Kinds, ", "))
	}
	for name, v := range map[string]string{"created_after": cq.CreatedAfter, "created_before": cq.CreatedBefore} {
		if _, err := parseWhen(v); err != nil {
			return cq, badInput("%s: %v", name, err)
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return cq, badInput("limit must be a whole number from 1 to 500")
		}
		cq.Limit = n
	}
	if len(cq.Cursor) > 1024 || !text.Clean(cq.Cursor) {
		return cq, badInput("cursor is not one the report service issued")
	}
	return cq, nil
}

// APIQuery is the report API's query for the filter.
func (cq CaseQuery) APIQuery() string {
	v := url.Values{"limit": {strconv.Itoa(cq.Limit)}}
	for name, s := range map[string]string{"status": cq.Status, "kind": cq.Kind, "cursor": cq.Cursor} {
		if s != "" {
			v.Set(name, s)
		}
	}
	for name, s := range map[string]string{"created_after": cq.CreatedAfter, "created_before": cq.CreatedBefore} {
		if t, _ := parseWhen(s); !t.IsZero() {
			v.Set(name, t.Format(time.RFC3339))
		}
	}
	return v.Encode()
}

// PageQuery is the filter with another cursor, for the paging links.
func (cq CaseQuery) PageQuery(cursor string) string {
	v := url.Values{}
	for name, s := range map[string]string{"status": cq.Status, "kind": cq.Kind, "created_after": cq.CreatedAfter,
		"created_before": cq.CreatedBefore, "cursor": cursor} {
		if s != "" {
			v.Set(name, s)
		}
	}
	if cq.Limit != 20 {
		v.Set("limit", strconv.Itoa(cq.Limit))
	}
	return v.Encode()
}

// parseWhen reads a date filter: empty, RFC 3339, an HTML datetime-local
// value or a date (both taken as UTC).
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2026-12-02), a time (2026-12-02T10:30) or RFC 3339", s)
}

// checkID refuses an id no service could have issued, before any call.
func checkID(field, v string) error {
	if err := text.ID(field, v); err != nil {
		return badInput("%v", err)
	}
	return nil
}
