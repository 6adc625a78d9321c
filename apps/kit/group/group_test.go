package group

import "testing"

func TestTakeTakesWhatIsWaitingUpToMaxAndNeverBlocks(t *testing.T) {
	ch := make(chan int, 10)
	for i := range 5 {
		ch <- i + 2
	}
	if g := Take(1, ch, 3); len(g) != 3 || g[0] != 1 || g[1] != 2 || g[2] != 3 {
		t.Fatalf("max 3: %v", g)
	}
	if g := Take(9, ch, 10); len(g) != 4 || g[0] != 9 || g[3] != 6 {
		t.Fatalf("the rest: %v", g)
	}
	if g := Take(7, ch, 10); len(g) != 1 || g[0] != 7 {
		t.Fatalf("nothing waiting: %v", g)
	}
}
