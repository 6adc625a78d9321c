package main

import "testing"

func TestRSSGrowthSlopeAndExtrapolation(t *testing.T) {
	before := rssOf{app: 50 << 20, sidecar: 100 << 20}
	after := rssOf{app: 60 << 20, sidecar: 110 << 20} // 20 MiB more for 2,000 rounds
	per, ext, ok := rssGrowth(before, after, 2000, 100_000)
	if !ok {
		t.Fatal("no slope with 2,000 open rounds")
	}
	if want := float64(20<<20) / 2000; per != want {
		t.Fatalf("per round %.1f bytes, want %.1f", per, want)
	}
	if want := float64(150<<20) + float64(20<<20)*50; ext != want {
		t.Fatalf("extrapolated %.0f bytes, want %.0f (before + 50 x the growth)", ext, want)
	}
	if _, _, ok := rssGrowth(before, after, 0, 100_000); ok {
		t.Fatal("a slope with no open round")
	}
}
