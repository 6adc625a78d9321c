package main

import "testing"

func TestRSSGrowthSlopesAndExtrapolation(t *testing.T) {
	const m = 1 << 20
	samples := []rssSample{
		{open: 0, rss: rssOf{app: 50 * m, sidecar: 100 * m}},
		{open: 400, rss: rssOf{app: 60 * m, sidecar: 110 * m}},  // start-up: 20 MiB for 400
		{open: 1000, rss: rssOf{app: 62 * m, sidecar: 112 * m}}, // first with half open
		{open: 2000, rss: rssOf{app: 64 * m, sidecar: 114 * m}}, // 4 MiB for the last 1,000
	}
	whole, half, extWhole, extHalf, ok := rssGrowth(samples, 100_000)
	if !ok {
		t.Fatal("no slope with 2,000 open rounds")
	}
	if want := float64(28*m) / 2000; whole != want {
		t.Fatalf("whole-phase slope %.1f bytes, want %.1f", whole, want)
	}
	if want := float64(4*m) / 1000; half != want {
		t.Fatalf("second-half slope %.1f bytes, want %.1f", half, want)
	}
	if want := float64(178*m) + float64(28*m)/2000*98_000; extWhole != want {
		t.Fatalf("extrapolated by the whole slope %.0f, want %.0f", extWhole, want)
	}
	if want := float64(178*m) + float64(4*m)/1000*98_000; extHalf != want {
		t.Fatalf("extrapolated by the second half %.0f, want %.0f", extHalf, want)
	}
}

func TestRSSGrowthNeedsOpenRounds(t *testing.T) {
	r := rssOf{app: 1, sidecar: 1}
	if _, _, _, _, ok := rssGrowth([]rssSample{{0, r}, {0, r}}, 100_000); ok {
		t.Fatal("a slope with no open round")
	}
	if _, _, _, _, ok := rssGrowth([]rssSample{{0, r}}, 100_000); ok {
		t.Fatal("a slope from one sample")
	}
	// No sample in between: the second half is the whole phase.
	whole, half, _, _, ok := rssGrowth([]rssSample{{0, r}, {10, rssOf{app: 11, sidecar: 1}}}, 100)
	if !ok || whole != 1 || half != 1 {
		t.Fatalf("whole %.1f half %.1f ok %v, want 1, 1, true", whole, half, ok)
	}
}
