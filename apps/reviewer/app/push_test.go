package app

import (
	"errors"
	"testing"

	"github.com/govern/reviewer/domain"
)

func TestStreamsAreCappedPerUserAndPerReplica(t *testing.T) {
	t.Parallel()
	h := NewTaskHub(2, 3)
	_, stopA1, err1 := h.Subscribe("a")
	_, _, err2 := h.Subscribe("a")
	if _, _, err := h.Subscribe("a"); err1 != nil || err2 != nil || !errors.Is(err, ErrStreamsPerUser) {
		t.Fatalf("third stream of a: %v (first two %v, %v), want ErrStreamsPerUser", err, err1, err2)
	}
	if _, _, err := h.Subscribe("b"); err != nil {
		t.Fatalf("b's first stream: %v", err)
	}
	if _, _, err := h.Subscribe("c"); !errors.Is(err, ErrStreamsPerReplica) {
		t.Fatalf("fourth stream of the replica: %v, want ErrStreamsPerReplica", err)
	}
	stopA1()
	stopA1() // a second stop must not free a second slot
	if _, _, err := h.Subscribe("c"); err != nil {
		t.Fatalf("stream after one closed: %v", err)
	}
	if _, _, err := h.Subscribe("d"); !errors.Is(err, ErrStreamsPerReplica) {
		t.Fatalf("stream beyond the total after a repeated stop: %v", err)
	}
}

func TestClosingTheHubEndsStreamsAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	h := NewTaskHub(3, 10)
	tasks, stop, err := h.Subscribe("a")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	h.Publish(domain.Task{CaseID: "c1", JurorID: "a"})
	if got := <-tasks; got.CaseID != "c1" {
		t.Fatalf("got %+v", got)
	}
	h.Close()
	h.Close()
	select {
	case <-h.Closing():
	default:
		t.Fatal("Closing not closed after Close")
	}
	if _, _, err := h.Subscribe("b"); !errors.Is(err, ErrStreamsClosed) {
		t.Fatalf("stream after Close: %v, want ErrStreamsClosed", err)
	}
}
