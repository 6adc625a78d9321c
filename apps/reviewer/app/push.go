package app

import (
	"context"
	"errors"
	"sync"

	"github.com/govern/reviewer/domain"
)

// streamBuffer is how many tasks may wait for a slow stream client; more
// are dropped for it (the task list still has them).
const streamBuffer = 64

// TaskHub fans new tasks out to this replica's stream clients.
type TaskHub struct {
	mu   sync.RWMutex
	subs map[string]map[chan domain.Task]struct{}
}

// NewTaskHub returns a hub without subscribers.
func NewTaskHub() *TaskHub { return &TaskHub{subs: map[string]map[chan domain.Task]struct{}{}} }

// Subscribe returns a channel of jurorID's new tasks and a function that
// ends the subscription.
func (h *TaskHub) Subscribe(jurorID string) (<-chan domain.Task, func()) {
	ch := make(chan domain.Task, streamBuffer)
	h.mu.Lock()
	if h.subs[jurorID] == nil {
		h.subs[jurorID] = map[chan domain.Task]struct{}{}
	}
	h.subs[jurorID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[jurorID], ch)
		if len(h.subs[jurorID]) == 0 {
			delete(h.subs, jurorID)
		}
		h.mu.Unlock()
	}
}

// Watched reports whether any client streams jurorID's tasks here.
func (h *TaskHub) Watched(jurorID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs[jurorID]) > 0
}

// Publish hands t to every subscriber of its juror without blocking.
func (h *TaskHub) Publish(t domain.Task) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for ch := range h.subs[t.JurorID] {
		select {
		case ch <- t:
		default:
		}
	}
}

// TaskCreated is told of every task created on any replica (the database
// notifies every listener); it pushes the task to local stream clients.
func (s *Service) TaskCreated(ctx context.Context, caseID, jurorID string) {
	if !s.Tasks.Watched(jurorID) {
		return
	}
	t, err := s.repo.OpenTask(ctx, caseID, jurorID)
	if errors.Is(err, domain.ErrTaskNotFound) {
		return // closed before it could be pushed
	}
	if err != nil {
		s.log.WarnContext(ctx, "load new task for its stream", "case_id", caseID, "juror_id", jurorID, "err", err)
		return
	}
	s.Tasks.Publish(t)
}
