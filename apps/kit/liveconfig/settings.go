package liveconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
)

// Errors of Settings.Apply. A setting that is refused leaves the value in
// force as it was.
var (
	ErrUnknownKey   = errors.New("unknown setting key")
	ErrInvalidValue = errors.New("invalid setting value")
)

// Versioned is a setting's value with the version it was stored under.
type Versioned[T any] struct {
	Value   T
	Version int64
}

// Value is one live setting of type T on this replica. Reads are one atomic
// load; a write installs its value only if its version is newer than the one
// in force, so replays and out-of-order deliveries never go back in time.
type Value[T any] struct {
	key    string
	decode func([]byte) (T, error)
	cur    atomic.Pointer[Versioned[T]]
}

// Get returns the value in force.
func (v *Value[T]) Get() T { return v.cur.Load().Value }

// Current returns the value in force with its version.
func (v *Value[T]) Current() Versioned[T] { return *v.cur.Load() }

// Key is the setting's key in the configuration store.
func (v *Value[T]) Key() string { return v.key }

// Set installs x at version unless the same or a newer version is in force.
// x must already be valid: Set is for values the service validated itself
// (its own writes, its database); values from outside go through Apply.
func (v *Value[T]) Set(x T, version int64) bool {
	next := &Versioned[T]{Value: x, Version: version}
	for {
		cur := v.cur.Load()
		if version <= cur.Version {
			return false
		}
		if v.cur.CompareAndSwap(cur, next) {
			return true
		}
	}
}

// applyJSON decodes and validates raw, then installs it as Set does.
func (v *Value[T]) applyJSON(raw []byte, version int64) (bool, error) {
	x, err := v.decode(raw)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %w", ErrInvalidValue, v.key, err)
	}
	return v.Set(x, version), nil
}

type entry interface {
	applyJSON(raw []byte, version int64) (bool, error)
}

// Settings is every live setting of one service, by key. Add every setting
// before the Settings is shared; after that it is safe for concurrent use.
type Settings struct {
	byKey map[string]entry
	keys  []string
}

// New returns an empty set of settings.
func New() *Settings { return &Settings{byKey: map[string]entry{}} }

// Add registers the setting key, in force with initial at version until a
// newer version arrives. decode turns a stored JSON value into a valid T or
// says why it is not one.
func Add[T any](s *Settings, key string, initial T, version int64, decode func([]byte) (T, error)) *Value[T] {
	if _, dup := s.byKey[key]; dup {
		panic("liveconfig: setting " + key + " added twice")
	}
	v := &Value[T]{key: key, decode: decode}
	v.cur.Store(&Versioned[T]{Value: initial, Version: version})
	s.byKey[key] = v
	s.keys = append(s.keys, key)
	return v
}

// Keys lists the settings in the order they were added.
func (s *Settings) Keys() []string { return append([]string(nil), s.keys...) }

// Apply installs the JSON value of key at version if it is valid and newer
// than the value in force. It reports whether it installed it; an unknown
// key is ErrUnknownKey and an invalid value ErrInvalidValue.
func (s *Settings) Apply(key string, raw []byte, version int64) (bool, error) {
	e, ok := s.byKey[key]
	if !ok {
		return false, fmt.Errorf("%w: %q", ErrUnknownKey, key)
	}
	return e.applyJSON(raw, version)
}

// JSON returns a decoder that reads the wire form W and turns it into a valid
// T with parse. Fields W does not know are ignored, unlike in request bodies:
// during a rolling release a newer replica may store a field that older ones
// do not know yet.
func JSON[W, T any](parse func(W) (T, error)) func([]byte) (T, error) {
	return func(raw []byte) (T, error) {
		var w W
		if err := json.Unmarshal(raw, &w); err != nil {
			var zero T
			return zero, err
		}
		return parse(w)
	}
}
