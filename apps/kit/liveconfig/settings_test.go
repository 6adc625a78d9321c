package liveconfig_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/govern/kit/liveconfig"
)

// limits is a setting as a service would define one: a wire form and a
// validated value.
type limits struct{ Max, Open int }

type limitsJSON struct {
	Max  *int `json:"max"`
	Open *int `json:"open"`
}

func parseLimits(j limitsJSON) (limits, error) {
	if j.Max == nil || j.Open == nil {
		return limits{}, errors.New("max and open are required")
	}
	if *j.Open > *j.Max || *j.Open < 1 {
		return limits{}, fmt.Errorf("open must be between 1 and max, got %d", *j.Open)
	}
	return limits{Max: *j.Max, Open: *j.Open}, nil
}

func newLimits() (*liveconfig.Settings, *liveconfig.Value[limits], *liveconfig.Value[string]) {
	s := liveconfig.New()
	l := liveconfig.Add(s, "limits", limits{Max: 10, Open: 2}, 0, liveconfig.JSON(parseLimits))
	name := liveconfig.Add(s, "name", "default", 1, liveconfig.JSON(func(v string) (string, error) {
		if v == "" {
			return "", errors.New("name is required")
		}
		return v, nil
	}))
	return s, l, name
}

func TestSettingsStartWithTheirInitialValues(t *testing.T) {
	t.Parallel()
	s, l, name := newLimits()
	if got := l.Current(); got.Value != (limits{Max: 10, Open: 2}) || got.Version != 0 {
		t.Fatalf("limits = %+v", got)
	}
	if name.Get() != "default" || name.Current().Version != 1 {
		t.Fatalf("name = %+v", name.Current())
	}
	if keys := s.Keys(); len(keys) != 2 || keys[0] != "limits" || keys[1] != "name" {
		t.Fatalf("keys = %v", keys)
	}
}

func TestOnlyANewerVersionReplacesTheValueInForce(t *testing.T) {
	t.Parallel()
	s, l, name := newLimits()
	if ok, err := s.Apply("limits", []byte(`{"max":5,"open":3}`), 4); !ok || err != nil {
		t.Fatalf("version 4: %v %v", ok, err)
	}
	for _, version := range []int64{4, 3, 0, -1} {
		if ok, err := s.Apply("limits", []byte(`{"max":9,"open":9}`), version); ok || err != nil {
			t.Fatalf("version %d after 4: applied %v, err %v", version, ok, err)
		}
	}
	if l.Set(limits{Max: 1, Open: 1}, 4) {
		t.Fatal("Set with the version in force replaced it")
	}
	if got := l.Current(); got.Value != (limits{Max: 5, Open: 3}) || got.Version != 4 {
		t.Fatalf("limits = %+v", got)
	}
	// Versions are per key: name is still at its initial version 1.
	if ok, _ := s.Apply("name", []byte(`"replica-b"`), 2); !ok || name.Get() != "replica-b" {
		t.Fatalf("name = %+v", name.Current())
	}
}

func TestInvalidValuesAndUnknownKeysChangeNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key, value string
		want             error
	}{
		{"not JSON", "limits", `{"max":`, liveconfig.ErrInvalidValue},
		{"wrong type", "limits", `{"max":"ten","open":1}`, liveconfig.ErrInvalidValue},
		{"missing field", "limits", `{"max":10}`, liveconfig.ErrInvalidValue},
		{"refused by the service's validation", "limits", `{"max":1,"open":2}`, liveconfig.ErrInvalidValue},
		{"null", "limits", `null`, liveconfig.ErrInvalidValue},
		{"unknown key", "colour", `{"max":1,"open":1}`, liveconfig.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, l, _ := newLimits()
			ok, err := s.Apply(tc.key, []byte(tc.value), 7)
			if ok || !errors.Is(err, tc.want) {
				t.Fatalf("Apply = %v, %v; want %v", ok, err, tc.want)
			}
			if got := l.Current(); got.Value != (limits{Max: 10, Open: 2}) || got.Version != 0 {
				t.Fatalf("limits changed to %+v", got)
			}
		})
	}
}

func TestUnknownFieldsOfAStoredValueAreIgnored(t *testing.T) {
	t.Parallel()
	s, l, _ := newLimits()
	if ok, err := s.Apply("limits", []byte(`{"max":4,"open":1,"added_by_a_newer_release":true}`), 1); !ok || err != nil {
		t.Fatalf("Apply = %v, %v", ok, err)
	}
	if l.Get() != (limits{Max: 4, Open: 1}) {
		t.Fatalf("limits = %+v", l.Get())
	}
}

func TestAddingAKeyTwiceIsAProgrammingError(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	s, _, _ := newLimits()
	liveconfig.Add(s, "limits", 0, 0, liveconfig.JSON(func(v int) (int, error) { return v, nil }))
}

// Racing writers of many versions end with the highest one in force, and a
// reader never sees a value with a version older than one it saw before.
func TestConcurrentWritersEndWithTheHighestVersion(t *testing.T) {
	t.Parallel()
	s, l, _ := newLimits()
	const writers, each = 8, 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		var last int64
		for {
			select {
			case <-stop:
				readerErr <- nil
				return
			default:
			}
			cur := l.Current()
			if cur.Version < last {
				readerErr <- fmt.Errorf("version went back from %d to %d", last, cur.Version)
				return
			}
			if cur.Version > 0 && cur.Value.Max != int(cur.Version) {
				readerErr <- fmt.Errorf("version %d holds the value of %d", cur.Version, cur.Value.Max)
				return
			}
			last = cur.Version
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				v := int64(i*writers + w + 1)
				if i%2 == 0 {
					l.Set(limits{Max: int(v), Open: 1}, v)
				} else {
					_, _ = s.Apply("limits", fmt.Appendf(nil, `{"max":%d,"open":1}`, v), v)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	if got := l.Current(); got.Version != writers*each || got.Value.Max != writers*each {
		t.Fatalf("ended at %+v, want version %d", got, writers*each)
	}
}
