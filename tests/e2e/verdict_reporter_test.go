package e2e

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// fileAs files a report on a fresh target (or on target when given) as
// reporter and returns its case.
func fileAs(t *testing.T, ctx context.Context, reporter, kind string, target map[string]any) (string, map[string]any) {
	t.Helper()
	if target == nil {
		target = map[string]any{"kind": kind, "id": unique("target"), "owner_id": unique("owner")}
	}
	body := map[string]any{"reporter_id": reporter, "target": target, "reason": "counterfeit goods"}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
	must(t, resp, err, 202)
	var rc receipt
	if err := resp.JSON(&rc); err != nil || rc.CaseID == "" {
		t.Fatalf("receipt %s: %v", resp, err)
	}
	return rc.CaseID, target
}

// reporterRecord reads a reporter's record as caller.
func reporterRecord(t *testing.T, ctx context.Context, caller, id string, roles ...string) map[string]any {
	t.Helper()
	resp, err := plat.As("report", caller, roles...).Do(ctx, "GET", "/v1/reporters/"+id, nil)
	return must(t, resp, err, 200).Map()
}

func wantRecord(t *testing.T, got map[string]any, id string, filed, upheld, rejected int, credibility float64) {
	t.Helper()
	if got["reporter_id"] != id || got["filed"] != float64(filed) || got["upheld"] != float64(upheld) ||
		got["rejected"] != float64(rejected) {
		t.Fatalf("record %v, want %s filed %d upheld %d rejected %d", got, id, filed, upheld, rejected)
	}
	if c, _ := got["credibility"].(float64); math.Abs(c-credibility) > 1e-9 {
		t.Fatalf("record %v, want credibility %v", got, credibility)
	}
}

// A reporter's record counts what they filed and how their cases ended
// (upheld and rejected; an open case counts for neither), and gives the
// Beta(2,2)-smoothed credibility. Only that reporter and operators read it.
func TestReporterRecordCountsFiledUpheldAndRejected(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 3, 2, "1h", "1h", 0, "undecided")
	r, s := unique("reporter"), unique("reporter")

	wantRecord(t, reporterRecord(t, ctx, r, r), r, 0, 0, 0, 0.5)
	upheldCase, target := fileAs(t, ctx, r, "comment", nil)
	if c, _ := fileAs(t, ctx, s, "comment", target); c != upheldCase {
		t.Fatalf("second report of the target opened case %s, want %s", c, upheldCase)
	}
	rejectedCase, _ := fileAs(t, ctx, r, "comment", nil)
	openCase, _ := fileAs(t, ctx, r, "comment", nil)
	wantRecord(t, reporterRecord(t, ctx, r, r), r, 3, 0, 0, 0.5)

	for caseID, decision := range map[string]string{upheldCase: "uphold", rejectedCase: "reject"} {
		jurors := jurorsOf(t, ctx, caseID, 3)
		for _, j := range jurors[:2] {
			resp, err := vote(ctx, caseID, j, decision)
			must(t, resp, err, 202)
		}
	}
	if c := waitClosed(t, ctx, upheldCase, 40*time.Second); c["status"] != "upheld" {
		t.Fatalf("case %v, want upheld", c)
	}
	if c := waitClosed(t, ctx, rejectedCase, 40*time.Second); c["status"] != "rejected" {
		t.Fatalf("case %v, want rejected", c)
	}

	wantRecord(t, reporterRecord(t, ctx, r, r), r, 3, 1, 1, 0.5)
	wantRecord(t, reporterRecord(t, ctx, "ops-reader", r, "ops"), r, 3, 1, 1, 0.5)
	wantRecord(t, reporterRecord(t, ctx, s, s), s, 1, 1, 0, 0.6)

	resp, err := plat.As("report", s).Do(ctx, "GET", "/v1/reporters/"+r, nil)
	must(t, resp, err, 403)
	resp, err = plat.As("report", s, "ops").Do(ctx, "GET", "/v1/reporters/"+strings.Repeat("x", 129), nil)
	must(t, resp, err, 400)

	// A withdrawn case counts for neither side either.
	resp, err = plat.As("report", "ops-withdrawer", "ops").Do(ctx, "POST", "/v1/cases/"+openCase+"/withdrawal",
		map[string]any{"reason": "listing deleted"})
	must(t, resp, err, 200)
	wantRecord(t, reporterRecord(t, ctx, r, r), r, 3, 1, 1, 0.5)
}
