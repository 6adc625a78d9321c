package app

import (
	"testing"
	"time"
)

func TestRoundStarterPaceKeepsBehindABusyIntake(t *testing.T) {
	for _, n := range []int{0, BusyIntake - 1} {
		if in, gap := RoundStarterPace(n); in != RoundStarters || gap != 0 {
			t.Fatalf("%d reports/s: %d starters %s apart, want %d at once", n, in, gap, RoundStarters)
		}
	}
	in, gap := RoundStarterPace(BusyIntake)
	if in != 1 || gap != time.Second/RoundStartsBehindIntake {
		t.Fatalf("busy intake: %d starters %s apart, want 1 every %s", in, gap, time.Second/RoundStartsBehindIntake)
	}
	if RoundStartsBehindIntake < 1 {
		t.Fatal("the starter must never stop: rounds must start even under a sustained intake")
	}
}

func TestIntakeMeterCountsTheLastFullSecond(t *testing.T) {
	var m intakeMeter
	for i := range 150 {
		m.add(3*time.Second + time.Duration(i)*time.Millisecond)
	}
	if n := m.lastSecond(3*time.Second + 500*time.Millisecond); n != 0 {
		t.Fatalf("during the second: %d, want the second before it (0)", n)
	}
	if n := m.lastSecond(4*time.Second + 10*time.Millisecond); n != 150 {
		t.Fatalf("the next second: %d, want 150", n)
	}
	m.add(4*time.Second + 20*time.Millisecond)
	if n := m.lastSecond(4*time.Second + 900*time.Millisecond); n != 150 {
		t.Fatalf("later in the next second: %d, want 150", n)
	}
	if n := m.lastSecond(6 * time.Second); n != 0 {
		t.Fatalf("after a silent second: %d, want 0", n)
	}
}
