// Package jaeger finds a case's trace in the trace store through Jaeger's
// query API (v1.76 has no UI here; its JSON API is what there is).
package jaeger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Client queries one Jaeger.
type Client struct {
	Base string // e.g. http://127.0.0.1:16686
	HTTP *http.Client
}

// New returns a client with a short timeout.
func New(base string) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Span is one span of a trace, flattened for display.
type Span struct {
	Service   string
	Operation string
	Start     time.Time
	Duration  time.Duration
}

// Trace summarises one trace.
type Trace struct {
	ID       string
	URL      string // the trace's JSON in the query API
	Start    time.Time
	Duration time.Duration
	Services []string
	Spans    []Span // in start order
}

type traceJSON struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		OperationName string `json:"operationName"`
		StartTime     int64  `json:"startTime"` // microseconds since the epoch
		Duration      int64  `json:"duration"`  // microseconds
		ProcessID     string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// CaseTraces returns the traces whose spans carry tag case.id = caseID, in
// any of services, newest first. No trace is not an error.
func (c *Client) CaseTraces(ctx context.Context, caseID string, services []string, since time.Time) ([]Trace, error) {
	known, err := c.services(ctx)
	if err != nil {
		return nil, err
	}
	tags, _ := json.Marshal(map[string]string{"case.id": caseID})
	seen := map[string]bool{}
	var out []Trace
	for _, svc := range services {
		if !slices.Contains(known, svc) {
			continue
		}
		q := url.Values{"service": {svc}, "tags": {string(tags)}, "limit": {"20"},
			"start": {strconv.FormatInt(since.UnixMicro(), 10)}, "end": {strconv.FormatInt(time.Now().UnixMicro(), 10)}}
		var resp struct {
			Data []traceJSON `json:"data"`
		}
		if err := c.get(ctx, "/api/traces?"+q.Encode(), &resp); err != nil {
			return nil, err
		}
		for _, t := range resp.Data {
			if seen[t.TraceID] {
				continue
			}
			seen[t.TraceID] = true
			out = append(out, c.summarise(t))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	return out, nil
}

func (c *Client) summarise(t traceJSON) Trace {
	tr := Trace{ID: t.TraceID, URL: c.Base + "/api/traces/" + url.PathEscape(t.TraceID)}
	var end time.Time
	for _, s := range t.Spans {
		sp := Span{Service: t.Processes[s.ProcessID].ServiceName, Operation: s.OperationName,
			Start: time.UnixMicro(s.StartTime).UTC(), Duration: time.Duration(s.Duration) * time.Microsecond}
		tr.Spans = append(tr.Spans, sp)
		if tr.Start.IsZero() || sp.Start.Before(tr.Start) {
			tr.Start = sp.Start
		}
		if e := sp.Start.Add(sp.Duration); e.After(end) {
			end = e
		}
		if !slices.Contains(tr.Services, sp.Service) {
			tr.Services = append(tr.Services, sp.Service)
		}
	}
	sort.Slice(tr.Spans, func(i, j int) bool { return tr.Spans[i].Start.Before(tr.Spans[j].Start) })
	sort.Strings(tr.Services)
	tr.Duration = end.Sub(tr.Start)
	return tr
}

func (c *Client) services(ctx context.Context) ([]string, error) {
	var resp struct {
		Data []string `json:"data"`
	}
	err := c.get(ctx, "/api/services", &resp)
	return resp.Data, err
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("trace store unreachable: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read trace store answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("trace store answered %d to %s", resp.StatusCode, path)
	}
	return json.Unmarshal(data, out)
}
