package app

import (
	"context"
	"encoding/json"
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
	outbox   []json.RawMessage // announcements enqueued with their draws
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
	payload, err := json.Marshal(AnnouncementFor(d, req))
	if err != nil {
		return domain.Draw{}, false, err
	}
	r.outbox = append(r.outbox, payload)
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
	s := New(repo, pub, slog.New(slog.NewTextHandler(io.Discard, nil)), func() {})
	s.newRand = seedFrom(7)
	return s, repo
}

// relay carries out every announcement enqueued so far, as the outbox relay
// does, and returns the first error.
func relay(s *Service, repo *drawRepo) error {
	for _, p := range repo.outbox {
		if err := s.Announce(context.Background(), p); err != nil {
			return err
		}
	}
	return nil
}

func drawRequest(id string, size int) domain.DrawRequest {
	return domain.DrawRequest{
		DrawID: id, CaseID: "case-1", Size: size, Exclude: []string{"reporter"},
		Target:   domain.Target{Kind: "post", ID: "p1", OwnerID: "owner"},
		Deadline: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestEveryDrawnJurorIsAnnouncedOnceThroughTheOutbox(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{}
	s, repo := newTestServiceAndRepo([]string{"a", "b", "c", "d", "reporter", "owner"}, pub)
	woken := 0
	s.wake = func() { woken++ }

	d, err := s.DrawJury(context.Background(), drawRequest("draw-1", 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Jurors) != 3 || slices.Contains(d.Jurors, "reporter") || slices.Contains(d.Jurors, "owner") {
		t.Fatalf("jurors = %v", d.Jurors)
	}
	if len(pub.events) != 0 || len(repo.outbox) != 1 || woken != 1 {
		t.Fatalf("published %d at once, %d enqueued, relay woken %d times; want 0, 1, 1", len(pub.events), len(repo.outbox), woken)
	}
	if err := relay(s, repo); err != nil {
		t.Fatal(err)
	}
	if len(pub.events) != 3 {
		t.Fatalf("published %d events, want 3", len(pub.events))
	}
	for i, e := range pub.events {
		if !slices.Contains(d.Jurors, e.JurorID) || e.CaseID != "case-1" || !e.Deadline.Equal(drawRequest("", 0).Deadline) {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
}

func TestRepeatedDrawReturnsTheSameJurorsWithoutAnnouncingAgain(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{}
	s, repo := newTestServiceAndRepo([]string{"a", "b", "c", "d"}, pub)

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
	if err := relay(s, repo); err != nil {
		t.Fatal(err)
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
	s, repo := newTestServiceAndRepo([]string{"a", "owner"}, &recordingPublisher{})
	if _, err := s.DrawJury(context.Background(), drawRequest("draw-1", 2)); !errors.Is(err, domain.ErrPoolTooSmall) {
		t.Fatalf("err = %v, want ErrPoolTooSmall", err)
	}
	if len(repo.outbox) != 0 {
		t.Fatalf("enqueued %v", repo.outbox)
	}
}

func TestFailedPublishFailsTheAnnouncementNotTheDraw(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{err: errors.New("sidecar down")}
	s, repo := newTestServiceAndRepo([]string{"a", "b"}, pub)
	d, err := s.DrawJury(context.Background(), drawRequest("draw-1", 2))
	if err != nil || len(d.Jurors) != 2 {
		t.Fatalf("draw = %v, %v", d, err)
	}
	if err := relay(s, repo); err == nil {
		t.Fatal("announcement succeeded while every publish failed: the relay would not try again")
	}
	pub.err = nil
	pub.events = nil
	if err := relay(s, repo); err != nil || len(pub.events) != 2 {
		t.Fatalf("retry published %v, %v", pub.events, err)
	}
}

func TestMalformedAnnouncementFails(t *testing.T) {
	t.Parallel()
	s := newTestService(nil, &recordingPublisher{})
	for _, p := range []string{`"x"`, `{}`, `{"case_id":7}`} {
		if err := s.Announce(context.Background(), json.RawMessage(p)); err == nil {
			t.Errorf("Announce(%s) succeeded", p)
		}
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
