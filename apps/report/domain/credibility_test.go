package domain

import (
	"math"
	"testing"
	"time"
)

func TestCredibilityIsASmoothedUpheldRatio(t *testing.T) {
	t.Parallel()
	p := DefaultCredibilityPrior()
	cases := []struct {
		name             string
		upheld, rejected int
		want             float64
	}{
		{"new reporter", 0, 0, 0.5},
		{"one rejected report is no verdict", 0, 1, 0.4},
		{"always right", 20, 0, 22.0 / 24},
		{"serial false reporter", 0, 10, 2.0 / 14},
		{"half right", 5, 5, 0.5},
	}
	for _, c := range cases {
		if got := p.Credibility(c.upheld, c.rejected); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Credibility(%d, %d) = %v, want %v", c.name, c.upheld, c.rejected, got, c.want)
		}
	}
	if r := NewReporterRecord("u1", 12, 0, 10); r.Credibility != p.Credibility(0, 10) || r.Filed != 12 {
		t.Errorf("NewReporterRecord = %+v", r)
	}
}

func TestSerialFalseReportersWaitLast(t *testing.T) {
	t.Parallel()
	p := DefaultCredibilityPrior()
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	serial := p.Credibility(0, 30)
	fresh := p.Credibility(0, 0)
	trusted := p.Credibility(9, 1)
	cases := []PendingCase{
		{CaseID: "c-serial-old", CreatedAt: t0, Credibility: serial},
		{CaseID: "c-fresh", CreatedAt: t0.Add(2 * time.Minute), Credibility: fresh},
		{CaseID: "c-three-serial", CreatedAt: t0.Add(time.Minute), Credibility: 3 * serial},
		{CaseID: "c-trusted", CreatedAt: t0.Add(5 * time.Minute), Credibility: trusted},
		{CaseID: "c-two-fresh", CreatedAt: t0.Add(9 * time.Minute), Credibility: 2 * fresh},
		{CaseID: "c-fresh-older", CreatedAt: t0.Add(time.Minute), Credibility: fresh},
	}
	OrderPending(cases)
	want := []string{"c-two-fresh", "c-trusted", "c-fresh-older", "c-fresh", "c-three-serial", "c-serial-old"}
	for i, c := range cases {
		if c.CaseID != want[i] {
			t.Fatalf("position %d is %s, want order %v", i, c.CaseID, want)
		}
	}
}

func TestPendingOrderIsTotalOnTies(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	cases := []PendingCase{{CaseID: "b", CreatedAt: t0, Credibility: 1}, {CaseID: "a", CreatedAt: t0, Credibility: 1}}
	OrderPending(cases)
	if cases[0].CaseID != "a" {
		t.Fatalf("ties not broken by id: %v", cases)
	}
}

func TestDailyCap(t *testing.T) {
	t.Parallel()
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		filed, cap int
		now        time.Time
		allowed    bool
		retryAfter time.Duration
	}{
		{"below the cap", 49, 50, noon, true, 0},
		{"at the cap", 50, 50, noon, false, 12 * time.Hour},
		{"cap off", 10_000, 0, noon, true, 0},
		{"half a second before midnight rounds up", 3, 3, time.Date(2026, 12, 1, 23, 59, 59, 500_000_000, time.UTC), false, time.Second},
		{"a day counts in UTC whatever the zone", 3, 3, time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)), false, 23 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allowed, retry := CheckDailyCap(c.filed, c.cap, c.now)
			if allowed != c.allowed || retry != c.retryAfter {
				t.Fatalf("CheckDailyCap(%d, %d, %v) = %v, %v; want %v, %v", c.filed, c.cap, c.now, allowed, retry, c.allowed, c.retryAfter)
			}
		})
	}
}

func TestUTCDayStartsAtUTCMidnight(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 1, 30, 0, 0, time.FixedZone("UTC+3", 3*3600))
	if got, want := UTCDay(at), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("UTCDay(%v) = %v, want %v", at, got, want)
	}
	if !ValidDailyReportCap(0) || !ValidDailyReportCap(DefaultDailyReportCap) || ValidDailyReportCap(-1) || ValidDailyReportCap(MaxDailyReportCap+1) {
		t.Fatal("daily cap bounds")
	}
}
