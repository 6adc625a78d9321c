package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTopicMessageIsAReportOnItsOwnTargetWhoseReporterGivesBackItsIndex(t *testing.T) {
	const prefix = "tp-ld42-"
	seen := map[string]bool{}
	for _, i := range []int{0, 7, 19999} {
		var msg struct {
			Reporter string `json:"reporter_id"`
			Reason   string `json:"reason"`
			Key      string `json:"idempotency_key"`
			Target   struct {
				Kind, ID, Owner string
			} `json:"target"`
		}
		if err := json.Unmarshal(topicMessage(prefix, i), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Reason == "" || msg.Key == "" || msg.Target.Kind != "item" || msg.Target.ID == "" {
			t.Fatalf("message %d lacks a field: %+v", i, msg)
		}
		if seen[msg.Target.ID] || seen[msg.Key] {
			t.Fatalf("message %d reuses a target or key: %+v", i, msg)
		}
		seen[msg.Target.ID], seen[msg.Key] = true, true
		got, ok := topicIndex(prefix, msg.Reporter)
		if !ok || got != i {
			t.Fatalf("topicIndex(%q) = %d, %v; want %d", msg.Reporter, got, ok, i)
		}
	}
}

func TestTopicIndexRefusesOtherRunsAndPhases(t *testing.T) {
	for _, r := range []string{"ld42-c-rep-3", "tp-ld43-rep-3", "tp-ld42-rep-", "tp-ld42-rep-x", "tp-ld42-rep--1", "tw-ld42-rep-0"} {
		if i, ok := topicIndex("tp-ld42-", r); ok {
			t.Errorf("topicIndex(%q) = %d, want refused", r, i)
		}
	}
}

func TestProbePayloadHasTheSizeAskedAndCarriesItsPublishTime(t *testing.T) {
	sent := time.Unix(1_700_000_000, 123456789)
	for _, size := range []int{300, 1000} {
		p := probePayload(sent, size)
		if len(p) != size {
			t.Errorf("size %d: payload is %d bytes", size, len(p))
		}
		got, ok := probeSent(p)
		if !ok || !got.Equal(sent) {
			t.Errorf("size %d: probeSent = %s, %v; want %s", size, got, ok, sent)
		}
	}
	// Shorter than its stamp: the stamp is kept whole.
	if got, ok := probeSent(probePayload(sent, 3)); !ok || !got.Equal(sent) {
		t.Errorf("tiny payload: probeSent = %s, %v", got, ok)
	}
	for _, bad := range []string{"", "xxxx", "12a|xx"} {
		if _, ok := probeSent(bad); ok {
			t.Errorf("probeSent(%q) accepted", bad)
		}
	}
}

func TestEntrySizeCountsFieldsAndValues(t *testing.T) {
	if got := entrySize(map[string]any{"data": "12345", "metadata": "{}"}); got != 4+5+8+2 {
		t.Fatalf("entrySize = %d, want 19", got)
	}
}
