package service

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestPprofListenerRefusesANonLoopbackAddress(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.invalid:1", "nonsense"} {
		if err := servePprof(context.Background(), log, addr); err == nil {
			t.Errorf("PPROF_ADDR=%q accepted", addr)
		}
	}
}

func TestPprofListenerServesProfilesOnLoopbackOnlyWhenSet(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if err := servePprof(context.Background(), log, ""); err != nil {
		t.Fatalf("unset PPROF_ADDR: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := servePprof(ctx, log, addr); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("pprof index: %d %.200s", resp.StatusCode, body)
	}
}
