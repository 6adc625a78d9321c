package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/govern/reviewer/domain"
)

// drawRepo serves draws and settings from memory; other Repository methods
// are unused.
type drawRepo struct {
	Repository
	eligible []string
	draws    map[string]domain.Draw
	lastSel  Selection
	versions map[string]int64
}

func (r *drawRepo) DrawJury(_ context.Context, req domain.DrawRequest, sel Selection) (domain.Draw, bool, error) {
	r.lastSel = sel
	if d, ok := r.draws[req.DrawID]; ok {
		return d, false, nil
	}
	jurors, err := domain.SelectJury(r.eligible, req.Excluded(), req.Size, sel.Rand)
	if err != nil {
		return domain.Draw{}, false, err
	}
	d := domain.Draw{DrawID: req.DrawID, CaseID: req.CaseID, Jurors: jurors}
	r.draws[req.DrawID] = d
	return d, true, nil
}

func (r *drawRepo) SaveSetting(_ context.Context, key string, _ []byte) (int64, error) {
	r.versions[key]++
	return r.versions[key], nil
}

type recordingPublisher struct {
	mu     sync.Mutex
	events []TaskAssigned
	err    error
}

func (p *recordingPublisher) TaskAssigned(_ context.Context, e TaskAssigned) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	return p.err
}

func newTestService(eligible []string, pub *recordingPublisher) *Service {
	s, _ := newTestServiceAndRepo(eligible, pub)
	return s
}

func newTestServiceAndRepo(eligible []string, pub *recordingPublisher) (*Service, *drawRepo) {
	repo := &drawRepo{eligible: eligible, draws: map[string]domain.Draw{}, versions: map[string]int64{}}
	s := New(repo, pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.newRand = seedFrom(7)
	return s, repo
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
		if !slices.Contains(d.Jurors, e.JurorID) || e.CaseID != "case-1" {
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

func TestSettingsApplyToTheNextDrawOnThisReplicaAtOnce(t *testing.T) {
	t.Parallel()
	s, repo := newTestServiceAndRepo([]string{"a", "b", "c"}, &recordingPublisher{})
	perDay, open := 7, 3
	if _, err := s.SetFatigue(context.Background(), FatigueJSON{MaxPerDay: &perDay, MaxOpen: &open, Cooldown: "1m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPoolRule(context.Background(), PoolRuleJSON{RequiredTags: []string{"verified"}, ActiveWithin: "2h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DrawJury(context.Background(), drawRequest("draw-1", 1)); err != nil {
		t.Fatal(err)
	}
	sel := repo.lastSel
	if sel.Fatigue != (domain.Fatigue{MaxPerDay: 7, MaxOpen: 3, Cooldown: time.Minute}) {
		t.Fatalf("draw used fatigue %+v", sel.Fatigue)
	}
	if sel.Rule.ActiveWithin != 2*time.Hour || !slices.Equal(sel.Rule.RequiredTags, []string{"verified"}) {
		t.Fatalf("draw used pool rule %+v", sel.Rule)
	}
}

func TestInvalidSettingsAreNeitherStoredNorApplied(t *testing.T) {
	t.Parallel()
	s, repo := newTestServiceAndRepo(nil, &recordingPublisher{})
	zero := 0
	if _, err := s.SetFatigue(context.Background(), FatigueJSON{MaxPerDay: &zero, MaxOpen: &zero, Cooldown: "0s"}); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("err = %v", err)
	}
	if len(repo.versions) != 0 || s.Fatigue() != domain.DefaultFatigue() {
		t.Fatalf("stored %v, in force %+v", repo.versions, s.Fatigue())
	}
}
