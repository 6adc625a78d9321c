package domain_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/text"
	"github.com/govern/report/domain"
)

func refusedAs400(t *testing.T, err error) {
	t.Helper()
	var he *httpx.Error
	if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
		t.Fatalf("refusal %v is not a 400", err)
	}
}

// storable checks the floor every accepted report stands on: ids are kit/text
// ids and free text is text PostgreSQL can store.
func storable(t *testing.T, r domain.Report) {
	t.Helper()
	for field, v := range map[string]string{"reporter_id": r.ReporterID, "target.id": r.Target.ID, "target.owner_id": r.Target.OwnerID} {
		if err := text.ID(field, v); err != nil {
			t.Fatalf("accepted report %+v: %v", r, err)
		}
	}
	for _, v := range append([]string{r.Reason}, r.Evidence...) {
		if !text.Clean(v) || strings.TrimSpace(v) == "" {
			t.Fatalf("accepted report %+v: text %q", r, v)
		}
	}
}

func reportSeeds(f *testing.F) {
	for _, s := range []string{
		`{"reporter_id":"frank","target":{"kind":"item","id":"item-1","owner_id":"mallory"},"reason":"counterfeit bag"}`,
		`{"reporter_id":"frank","target":{"kind":"post","id":"p","owner_id":"m"},"reason":"spam","evidence":["https://x/1","line\none"]}`,
		`{"reporter_id":"frank","target":{"kind":"item","id":"i","owner_id":"frank"},"reason":"self"}`,
		`{"reporter_id":"fr\u0000ank","target":{"kind":"item","id":"i","owner_id":"m"},"reason":"r"}`,
		`{"reporter_id":"frank","target":{"kind":"video","id":"i","owner_id":"m"},"reason":"r"}`,
		`{"reporter_id":"frank","target":{"kind":"item","id":"i","owner_id":"m"},"reason":"r","extra":1}`,
		`{"reporter_id":1,"target":[],"reason":{}}`, `{"evidence":[null]}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
}

// A report body (POST /v1/reports, the reports topic) is either refused as a
// 400 / ErrInvalidReport, or it is a storable report that survives a round
// trip through JSON unchanged and still valid.
func FuzzReportBody(f *testing.F) {
	reportSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r domain.Report
		if err := httpx.Unmarshal(data, &r); err != nil {
			refusedAs400(t, err)
			return
		}
		if err := r.Validate(); err != nil {
			if !errors.Is(err, domain.ErrInvalidReport) {
				t.Fatalf("refusal %v is not ErrInvalidReport", err)
			}
			return
		}
		storable(t, r)
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Report
		if err := httpx.Unmarshal(again, &back); err != nil || back.Validate() != nil {
			t.Fatalf("%s does not decode to a valid report again: %v", again, err)
		}
		if len(r.Evidence) == 0 {
			r.Evidence = nil
		}
		if !reflect.DeepEqual(r, back) {
			t.Fatalf("%+v came back as %+v", r, back)
		}
	})
}

// Validate is the last line before the database, whichever decoder filled
// the report: whatever it accepts is storable.
func FuzzReportValidate(f *testing.F) {
	f.Add("frank", "item", "item-1", "mallory", "counterfeit", "")
	f.Add("frank", "chat", "c", "m", "r", "https://x")
	f.Fuzz(func(t *testing.T, reporter, kind, id, owner, reason, evidence string) {
		r := domain.Report{ReporterID: reporter, Target: domain.Target{Kind: kind, ID: id, OwnerID: owner}, Reason: reason}
		if evidence != "" {
			r.Evidence = []string{evidence}
		}
		err := r.Validate()
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidReport) {
				t.Fatalf("refusal %v is not ErrInvalidReport", err)
			}
			return
		}
		if !domain.ValidKind(kind) || owner == reporter {
			t.Fatalf("accepted %+v", r)
		}
		storable(t, r)
	})
}

// A vote body is a decision of the contract's two and an optional comment
// PostgreSQL can store, or a 400.
func FuzzVoteBody(f *testing.F) {
	for _, s := range []string{`{"decision":"uphold"}`, `{"decision":"reject","comment":"fake\nlisting"}`,
		`{"decision":"maybe"}`, `{"decision":"uphold","comment":"\u0000"}`, `{"decision":"uphold","extra":1}`,
		`{"decision":["uphold"]}`, `{}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body struct {
			Decision string `json:"decision"`
			Comment  string `json:"comment"`
		}
		if err := httpx.Unmarshal(data, &body); err != nil {
			refusedAs400(t, err)
			return
		}
		if err := domain.ValidateVote(body.Decision, body.Comment); err != nil {
			if !errors.Is(err, domain.ErrInvalidVote) {
				t.Fatalf("refusal %v is not ErrInvalidVote", err)
			}
			return
		}
		if body.Decision != domain.VoteUphold && body.Decision != domain.VoteReject || !text.Clean(body.Comment) {
			t.Fatalf("accepted vote %+v", body)
		}
	})
}

// A policy body (PUT /v1/policies/{kind}) is a valid policy that survives a
// round trip through its JSON form unchanged, or it is refused.
func FuzzPolicyBody(f *testing.F) {
	for _, s := range []string{
		`{"jury_size":3,"quorum":2,"juror_timeout":"1h","max_duration":"24h","max_substitutes":2,"on_timeout":"undecided"}`,
		`{"kind":"item","jury_size":5,"quorum":3,"juror_timeout":"1h30m0.5s","max_duration":"72h","max_substitutes":5,"on_timeout":"escalate","cooldown":"0s"}`,
		`{"jury_size":4,"quorum":2,"juror_timeout":"1h","max_duration":"24h","max_substitutes":2,"on_timeout":"undecided"}`,
		`{"jury_size":3,"quorum":2,"juror_timeout":"-1h","max_duration":"24h","max_substitutes":2,"on_timeout":"undecided"}`,
		`{"jury_size":1e400}`, `{"jury_size":9223372036854775808}`, `{"juror_timeout":3600}`, `{"juror_timeout":"9999999999h"}`,
		`{"cooldown":null}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body struct {
			domain.Policy
			Cooldown *domain.Duration `json:"cooldown"`
		}
		if err := httpx.Unmarshal(data, &body); err != nil {
			refusedAs400(t, err)
			return
		}
		p := body.Policy
		if body.Cooldown != nil {
			p.Cooldown = *body.Cooldown
		}
		if p.Kind == "" {
			p.Kind = "item"
		}
		if err := p.Validate(); err != nil {
			if !errors.Is(err, domain.ErrInvalidPolicy) {
				t.Fatalf("refusal %v is not ErrInvalidPolicy", err)
			}
			return
		}
		if p.Quorum*2 <= p.JurySize || p.Quorum > p.JurySize || time.Duration(p.JurorTimeout) < time.Second {
			t.Fatalf("accepted policy %+v", p)
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Policy
		if err := httpx.Unmarshal(again, &back); err != nil || back != p || back.Validate() != nil {
			t.Fatalf("%+v came back from %s as %+v (%v)", p, again, back, err)
		}
	})
}

// A duration is a Go duration string; what is accepted is written in a form
// that reads back as the same duration.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`"24h"`, `"1h30m"`, `"0s"`, `"1.5s"`, `"-5m"`, `"1µs"`, `"2562047h47m16.854775807s"`,
		`"9223372036854775808ns"`, `"1e3s"`, `3600`, `null`, `"24h0m0s"`, `""`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d domain.Duration
		if err := json.Unmarshal(data, &d); err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("%s accepted as %d but not written: %v", data, d, err)
		}
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("%s is not written as a string: %s", data, out)
		}
		if v, err := time.ParseDuration(s); err != nil || domain.Duration(v) != d {
			t.Fatalf("%s read as %d, written %s, reads back as %d (%v)", data, d, out, v, err)
		}
		if strings.HasSuffix(s, "h0m") || strings.HasSuffix(s, "m0s") {
			t.Fatalf("%d written %q, not in its shortest form", d, s)
		}
	})
}
