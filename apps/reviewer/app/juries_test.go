package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

// drawRepo serves draws from memory; other Repository methods are unused.
type drawRepo struct {
	Repository
	eligible []string
	draws    map[string]domain.Draw
}

func (r *drawRepo) DrawJury(_ context.Context, req domain.DrawRequest, pick Picker) (domain.Draw, bool, error) {
	if d, ok := r.draws[req.DrawID]; ok {
		return d, false, nil
	}
	jurors, err := pick(r.eligible)
	if err != nil {
		return domain.Draw{}, false, err
	}
	d := domain.Draw{DrawID: req.DrawID, CaseID: req.CaseID, Jurors: jurors}
	r.draws[req.DrawID] = d
	return d, true, nil
}

type recordingPublisher struct {
	events []TaskAssigned
	err    error
}

func (p *recordingPublisher) TaskAssigned(_ context.Context, e TaskAssigned) error {
	p.events = append(p.events, e)
	return p.err
}

func newTestService(eligible []string, pub *recordingPublisher) *Service {
	s := New(&drawRepo{eligible: eligible, draws: map[string]domain.Draw{}}, pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.newRand = seedFrom(7)
	return s
}

func drawRequest(id string, size int) domain.DrawRequest {
	return domain.DrawRequest{
		DrawID: id, CaseID: "case-1", Size: size, Exclude: []string{"reporter"},
		Target:   domain.Target{Kind: "post", ID: "p1", OwnerID: "owner"},
		Deadline: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestEveryDrawnJurorIsAnnouncedOnce(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{}
	s := newTestService([]string{"a", "b", "c", "d", "reporter", "owner"}, pub)

	d, err := s.DrawJury(context.Background(), drawRequest("draw-1", 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Jurors) != 3 || slices.Contains(d.Jurors, "reporter") || slices.Contains(d.Jurors, "owner") {
		t.Fatalf("jurors = %v", d.Jurors)
	}
	if len(pub.events) != 3 {
		t.Fatalf("published %d events, want 3", len(pub.events))
	}
	for i, e := range pub.events {
		if e.JurorID != d.Jurors[i] || e.CaseID != "case-1" {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
}

func TestRepeatedDrawReturnsTheSameJurorsWithoutAnnouncingAgain(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{}
	s := newTestService([]string{"a", "b", "c", "d"}, pub)

	first, err := s.DrawJury(context.Background(), drawRequest("draw-1", 2))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.DrawJury(context.Background(), drawRequest("draw-1", 2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Jurors, again.Jurors) {
		t.Fatalf("repeat drew %v, first drew %v", again.Jurors, first.Jurors)
	}
	if len(pub.events) != 2 {
		t.Fatalf("published %d events, want 2", len(pub.events))
	}
}

func TestDrawIDReusedForAnotherCaseIsRejected(t *testing.T) {
	t.Parallel()
	s := newTestService([]string{"a", "b"}, &recordingPublisher{})
	if _, err := s.DrawJury(context.Background(), drawRequest("draw-1", 1)); err != nil {
		t.Fatal(err)
	}
	other := drawRequest("draw-1", 1)
	other.CaseID = "case-2"
	if _, err := s.DrawJury(context.Background(), other); !errors.Is(err, domain.ErrDrawIDReused) {
		t.Fatalf("err = %v, want ErrDrawIDReused", err)
	}
}

func TestTooSmallPoolDrawsNobody(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{}
	s := newTestService([]string{"a", "owner"}, pub)
	if _, err := s.DrawJury(context.Background(), drawRequest("draw-1", 2)); !errors.Is(err, domain.ErrPoolTooSmall) {
		t.Fatalf("err = %v, want ErrPoolTooSmall", err)
	}
	if len(pub.events) != 0 {
		t.Fatalf("published %v", pub.events)
	}
}

func TestFailedAnnouncementDoesNotFailTheDraw(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{err: errors.New("sidecar down")}
	s := newTestService([]string{"a", "b"}, pub)
	d, err := s.DrawJury(context.Background(), drawRequest("draw-1", 2))
	if err != nil || len(d.Jurors) != 2 {
		t.Fatalf("draw = %v, %v", d, err)
	}
}
