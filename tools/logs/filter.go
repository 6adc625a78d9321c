package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Filter says which records to print; zero fields match everything.
type Filter struct {
	Cases    []string // case ids
	Reports  []string // report ids (and, by Expand, the cases they opened or joined)
	Users    []string // user ids: reporter, owner, juror, subject
	Trace    string   // a trace id
	Services []string // "reward" (app and sidecar) or "reward-dapr" (the sidecar only)
	MinLevel Level
	Since    time.Time
	Until    time.Time
}

// userFields hold a user id in the apps' lines.
var userFields = []string{"user_id", "juror_id", "reporter_id", "owner_id", "sub"}

// ParseTime reads SINCE and UNTIL: an RFC 3339 time, or a duration back from now ("10m", "2h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			d = -d
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-12-01T10:00:00Z) nor a duration (10m, 2h)", s)
}

// Expand resolves REPORT to what happened to it: each report's lines name
// the case it opened or joined, whose story is the report's too.
func (f Filter) Expand(recs []Record) Filter {
	if len(f.Reports) == 0 {
		return f
	}
	for _, r := range recs {
		if id, ok := r.Fields["report_id"].(string); ok && slices.Contains(f.Reports, id) {
			if c, ok := r.Fields["case_id"].(string); ok && c != "" && !slices.Contains(f.Cases, c) {
				f.Cases = append(f.Cases, c)
			}
		}
	}
	return f
}

// Match says whether r passes every condition of f.
func (f Filter) Match(r Record) bool {
	if !f.Since.IsZero() && (r.NoTime && r.Time.IsZero() || r.Time.Before(f.Since)) {
		return false
	}
	if !f.Until.IsZero() && r.Time.After(f.Until) {
		return false
	}
	if f.MinLevel != LevelUnknown && r.Level < f.MinLevel {
		return false
	}
	if len(f.Services) > 0 && !slices.ContainsFunc(f.Services, func(s string) bool {
		return r.Service == s || r.Service == s+"-dapr"
	}) {
		return false
	}
	if f.Trace != "" && !mentionsTrace(r, f.Trace) {
		return false
	}
	if len(f.Cases)+len(f.Reports)+len(f.Users) == 0 {
		return true
	}
	// The ids are alternatives: a report's lines and its case's lines.
	for _, id := range f.Cases {
		if mentions(r, id) {
			return true
		}
	}
	for _, id := range f.Reports {
		if mentions(r, id) {
			return true
		}
	}
	for _, id := range f.Users {
		for _, k := range userFields {
			if holds(r.Fields[k], id) {
				return true
			}
		}
	}
	return false
}

// holds says whether a field's value is id, or a list holding it.
func holds(v any, id string) bool {
	switch v := v.(type) {
	case string:
		return v == id
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { return holds(e, id) })
	}
	return false
}

// mentions says whether id appears in the line as a whole token: in a field
// (case_id, draw_id "c_1/jury") or in the message (a sidecar's
// "Workflow Actor 'round-c_1': ..."). Letters, digits and _ continue a token,
// so case c_1 is not found in c_12.
func mentions(r Record, id string) bool {
	if containsToken(r.Msg, id) {
		return true
	}
	for _, v := range r.Fields {
		if valueMentions(v, id) {
			return true
		}
	}
	return false
}

func valueMentions(v any, id string) bool {
	switch v := v.(type) {
	case string:
		return containsToken(v, id)
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { return valueMentions(e, id) })
	case map[string]any:
		for _, e := range v {
			if valueMentions(e, id) {
				return true
			}
		}
	}
	return false
}

func tokenByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func containsToken(s, id string) bool {
	if id == "" {
		return false
	}
	for from := 0; ; {
		i := strings.Index(s[from:], id)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(id)
		if (i == 0 || !tokenByte(s[i-1])) && (end == len(s) || !tokenByte(s[end])) {
			return true
		}
		from = i + 1
	}
}

// mentionsTrace matches trace_id, or a W3C traceparent (00-<trace>-<span>-01)
// the line carries.
func mentionsTrace(r Record, trace string) bool {
	trace = strings.ToLower(trace)
	if s, ok := r.Fields["trace_id"].(string); ok && strings.ToLower(s) == trace {
		return true
	}
	if s, ok := r.Fields["traceparent"].(string); ok {
		parts := strings.Split(strings.ToLower(s), "-")
		return len(parts) == 4 && parts[1] == trace
	}
	return false
}

// Merge puts the records of every file in one time order; lines of one file
// that share a time keep their order.
func Merge(files ...[]Record) []Record {
	var all []Record
	for _, f := range files {
		all = append(all, f...)
	}
	slices.SortStableFunc(all, func(a, b Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return all
}

// Format prints a record on one line: time, service, level, message, the ids
// it carries, then its other fields.
func Format(r Record) string {
	var b strings.Builder
	if r.Time.IsZero() {
		b.WriteString("-" + strings.Repeat(" ", 23)) // before the file's first timed line
	} else {
		b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	fmt.Fprintf(&b, " %-13s %-5s %s", r.Service, r.Level, r.Msg)
	for _, k := range IDFields {
		if v, ok := r.Fields[k]; ok && v != "" {
			fmt.Fprintf(&b, " %s=%s", k, value(k, v))
		}
	}
	var rest []string
	for k := range r.Fields {
		if !slices.Contains(IDFields, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		v := r.Fields[k]
		if v == nil || v == "" {
			continue
		}
		fmt.Fprintf(&b, " %s=%s", k, value(k, v))
	}
	return b.String()
}

func value(key string, v any) string {
	switch v := v.(type) {
	case string:
		if strings.ContainsAny(v, " \t\"=") {
			return fmt.Sprintf("%q", v)
		}
		return v
	case json.Number:
		// slog writes a time.Duration as nanoseconds.
		if key == "elapsed" {
			if n, err := v.Int64(); err == nil {
				return time.Duration(n).String()
			}
		}
		return v.String()
	default:
		raw, _ := json.Marshal(v)
		return string(raw)
	}
}
