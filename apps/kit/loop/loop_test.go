package loop

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// The first pass runs at once, a wake runs another without waiting for the
// interval, a failing pass does not end the loop, and the loop ends with
// its context.
func TestEveryRunsAtOnceOnWakeAndAfterAFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{})
	passes := make(chan int)
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, slog.New(slog.DiscardHandler), "test pass", time.Hour, wake, func(context.Context) error {
			n++
			passes <- n
			return errors.New("this pass fails")
		})
	}()
	if got := <-passes; got != 1 {
		t.Fatalf("first pass %d", got)
	}
	wake <- struct{}{}
	if got := <-passes; got != 2 {
		t.Fatalf("pass after the wake %d", got)
	}
	cancel()
	<-done
}
