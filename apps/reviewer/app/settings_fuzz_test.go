package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/domain"
)

// settingBody is one of the three settings bodies (PUT /v1/pool-rule,
// /v1/fatigue, /v1/adjustment): how the port decodes and the service parses
// it, and how the stored value is written.
type settingBody struct {
	key   string
	parse func([]byte) (any, []byte, error) // the value in force and its stored form
}

func wire[W, T any](parse func(W) (T, error), write func(T) W) func([]byte) (any, []byte, error) {
	return func(data []byte) (any, []byte, error) {
		var w W
		if err := httpx.Unmarshal(data, &w); err != nil {
			return nil, nil, err
		}
		v, err := parse(w)
		if err != nil {
			return nil, nil, err
		}
		stored, err := jsonOf(write(v))
		return v, stored, err
	}
}

var settingBodies = []settingBody{
	{KeyPoolRule, wire(ParsePoolRule, PoolRuleToJSON)},
	{KeyFatigue, wire(ParseFatigue, FatigueToJSON)},
	{KeyAdjustment, wire(ParseAdjustment, AdjustmentToJSON)},
	{KeyGold, wire(ParseGold, GoldToJSON)},
}

// A settings body is refused as a 400, or its value, once stored in its wire
// form, is what every replica installs from the configuration store, and it
// reads back as the same value.
func FuzzSettingBodies(f *testing.F) {
	for _, s := range []string{`{"required_tags":["verified"],"active_within":"168h"}`, `{"required_tags":[],"active_within":"1ms"}`,
		`{"required_tags":null,"active_within":"1h30m"}`, `{"required_tags":[""],"active_within":"1h"}`} {
		f.Add(uint8(0), []byte(s))
	}
	for _, s := range []string{`{"max_per_day":100,"max_open":10,"cooldown":"0s"}`, `{"max_per_day":0,"max_open":10,"cooldown":"0s"}`,
		`{"max_per_day":5,"max_open":2,"cooldown":"1.5s"}`, `{"max_per_day":5,"cooldown":"0s"}`, `{"max_per_day":1e400}`} {
		f.Add(uint8(1), []byte(s))
	}
	for _, s := range []string{`{"interval":"1m","window":20,"min_tasks":5,"max_timeout_ratio":0.5,"min_agreement_rate":0.2,"suspension":"168h"}`,
		`{"interval":"1s","window":20,"min_tasks":20,"max_timeout_ratio":1.0,"min_agreement_rate":0.0,"suspension":"1s"}`,
		`{"interval":"1m","window":20,"min_tasks":5,"max_timeout_ratio":0.1e1,"min_agreement_rate":-0,"suspension":"1h"}`,
		`{"interval":"1m","window":2,"min_tasks":5,"max_timeout_ratio":0.5,"min_agreement_rate":0.2,"suspension":"1h"}`} {
		f.Add(uint8(2), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		b := settingBodies[int(which)%len(settingBodies)]
		v, stored, err := b.parse(data)
		if err != nil {
			var he *httpx.Error
			if !(errors.As(err, &he) && he.Status == http.StatusBadRequest) && !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("refusal %v is neither a 400 nor invalid input", err)
			}
			return
		}
		s := NewSettings()
		if !s.Apply(Setting{Key: b.key, Value: stored, Version: 1}) {
			t.Fatalf("%s %s accepted by the API but refused from the store as %s", b.key, data, stored)
		}
		var installed any
		switch b.key {
		case KeyPoolRule:
			installed = s.PoolRule()
		case KeyFatigue:
			installed = s.Fatigue()
		case KeyAdjustment:
			installed = s.Adjustment()
		}
		if !reflect.DeepEqual(installed, v) {
			t.Fatalf("%s %s is %+v, but replicas install %+v from %s", b.key, data, v, installed, stored)
		}
		again, stored2, err := b.parse(stored)
		if err != nil || !reflect.DeepEqual(again, v) || string(stored2) != string(stored) {
			t.Fatalf("%s stored as %s reads back as %+v, %s (%v)", b.key, stored, again, stored2, err)
		}
	})
}

func jsonOf(v any) ([]byte, error) { return json.Marshal(v) }
