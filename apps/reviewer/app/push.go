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

// Defaults of the stream caps (env STREAMS_PER_USER, STREAMS_PER_REPLICA).
// Each open stream holds a connection, a goroutine and its buffer; a user
// needs one per device, and a replica's total bounds its memory.
const (
	DefaultStreamsPerUser    = 3
	DefaultStreamsPerReplica = 2000
)

// Why a stream is refused. Each is temporary: the client may try again
// after a while (on another replica, for the last two).
var (
	ErrStreamsPerUser    = errors.New("too many open streams for this user")
	ErrStreamsPerReplica = errors.New("too many open streams on this replica")
	ErrStreamsClosed     = errors.New("this replica is shutting down")
)

// TaskHub fans new tasks out to this replica's stream clients, at most
// perUser streams per juror and total streams in all.
type TaskHub struct {
	mu      sync.RWMutex
	subs    map[string]map[chan domain.Task]struct{}
	open    int
	perUser int
	total   int
	closed  chan struct{}
}

// NewTaskHub returns a hub without subscribers.
func NewTaskHub(perUser, total int) *TaskHub {
	return &TaskHub{subs: map[string]map[chan domain.Task]struct{}{}, perUser: perUser, total: total,
		closed: make(chan struct{})}
}

// Subscribe returns a channel of jurorID's new tasks and a function that
// ends the subscription, or why the stream cannot open now.
func (h *TaskHub) Subscribe(jurorID string) (<-chan domain.Task, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
		return nil, nil, ErrStreamsClosed
	default:
	}
	switch {
	case len(h.subs[jurorID]) >= h.perUser:
		return nil, nil, ErrStreamsPerUser
	case h.open >= h.total:
		return nil, nil, ErrStreamsPerReplica
	}
	ch := make(chan domain.Task, streamBuffer)
	if h.subs[jurorID] == nil {
		h.subs[jurorID] = map[chan domain.Task]struct{}{}
	}
	h.subs[jurorID][ch] = struct{}{}
	h.open++
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs[jurorID], ch)
			if len(h.subs[jurorID]) == 0 {
				delete(h.subs, jurorID)
			}
			h.open--
		})
	}, nil
}

// Closing is closed once the replica shuts down: every stream ends then.
func (h *TaskHub) Closing() <-chan struct{} { return h.closed }

// Close ends every stream and refuses new ones (on shutdown, so that the
// HTTP server's drain is not held up by streams that never end by
// themselves). Closing twice is harmless.
func (h *TaskHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
	default:
		close(h.closed)
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
