package http

import (
	nethttp "net/http"
	"testing"
	"time"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/text"
	"github.com/govern/reviewer/domain"
)

var fuzzNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// answeredAs400 checks a refusal the way the port answers it: through the
// service's error mapping, as a 400.
func answeredAs400(t *testing.T, err error) {
	t.Helper()
	he, ok := err.(*httpx.Error)
	if !ok {
		he = mapError(err)
	}
	if he == nil || he.Status != nethttp.StatusBadRequest {
		t.Fatalf("refusal %v is not answered 400", err)
	}
}

// A profile body is refused as a 400, or it makes a profile of storable tags
// whose activity time reads back as written.
func FuzzProfileBody(f *testing.F) {
	for _, s := range []string{`{"tags":["verified"],"last_active_at":"2026-12-01T10:00:00Z"}`,
		`{"tags":[],"last_active_at":"2026-12-01T10:00:00.123456789+08:00"}`, `{"tags":["a","a"],"last_active_at":"2026-12-01T10:00:00Z"}`,
		`{"tags":null,"last_active_at":""}`, `{"tags":[1],"last_active_at":"x"}`, `{"last_active_at":"9999-12-31T23:59:59Z"}`,
		`{"tags":["verified"],"last_active_at":"2026-12-01T10:00:00Z","extra":1}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body profileBody
		if err := httpx.Unmarshal(data, &body); err != nil {
			answeredAs400(t, err)
			return
		}
		at, err := parseTime("last_active_at", body.LastActiveAt)
		if err != nil {
			answeredAs400(t, err)
			return
		}
		p, err := domain.NewProfile("alice", body.Tags, at, fuzzNow)
		if err != nil {
			answeredAs400(t, err)
			return
		}
		for _, tag := range p.Tags {
			if err := text.Label("tag", tag, text.MaxTagLen); err != nil {
				t.Fatalf("accepted tag: %v", err)
			}
		}
		if back, err := parseTime("last_active_at", formatTime(p.LastActiveAt)); err != nil || !back.Equal(at) {
			t.Fatalf("last_active_at %q came back as %s (%v)", body.LastActiveAt, back, err)
		}
	})
}

// A draw body (POST /internal/juries, from the report service's workflow) is
// refused as a 400, or it is a request of storable ids and text.
func FuzzDrawBody(f *testing.F) {
	for _, s := range []string{
		`{"draw_id":"c1/jury","case_id":"c1","size":5,"exclude":["r"],"target":{"kind":"post","id":"t","owner_id":"o"},"reason":"spam","deadline":"2026-12-02T00:00:00Z"}`,
		`{"draw_id":"c1/sub-1","case_id":"c1","size":1,"exclude":[],"conflicts":["x"],"target":{"kind":"chat","id":"t","owner_id":"o"},"reason":"r","deadline":"2026-12-02T00:00:00Z"}`,
		`{"draw_id":"d","case_id":"c","size":1e9,"target":{"kind":"post","id":"t"},"deadline":"2026-12-02T00:00:00Z"}`,
		`{"size":-1}`, `{"exclude":"r"}`, `{"target":{"kind":"post","extra":1}}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body drawBody
		if err := httpx.Unmarshal(data, &body); err != nil {
			answeredAs400(t, err)
			return
		}
		deadline, err := parseTime("deadline", body.Deadline)
		if err != nil {
			answeredAs400(t, err)
			return
		}
		r := domain.DrawRequest{DrawID: body.DrawID, CaseID: body.CaseID, Size: body.Size, Exclude: body.Exclude,
			Conflicts: body.Conflicts, Target: body.Target.domain(), Reason: body.Reason, Deadline: deadline}
		if err := r.Validate(); err != nil {
			answeredAs400(t, err)
			return
		}
		for _, id := range append(append([]string{r.DrawID, r.CaseID, r.Target.ID}, r.Exclude...), r.Conflicts...) {
			if err := text.ID("id", id); err != nil {
				t.Fatalf("accepted draw %+v: %v", r, err)
			}
		}
		if !text.Clean(r.Reason) || !text.Clean(r.Target.OwnerID) {
			t.Fatalf("accepted draw %+v", r)
		}
	})
}
