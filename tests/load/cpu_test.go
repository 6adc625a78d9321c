package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestCPUBetweenGivesEachRoleItsCoresBiggestFirst(t *testing.T) {
	at := time.Now()
	a := cpuSample{at: at, procs: map[string]procCPU{"1": {"postgres", 60}, "2": {"postgres", 40}, "3": {"report", 50},
		"4": {"kernel workers", 5000}}, busy: 1000, all: 2000}
	b := cpuSample{at: at.Add(10 * time.Second), procs: map[string]procCPU{
		"1": {"postgres", 460}, "2": {"postgres", 340}, "3": {"report", 450},
		"4":  {"kernel workers", 5000}, // idle all along: counts nothing, whatever it did before
		"99": {"load", 30},             // started in the window: counts whole
	}, busy: 2900, all: 4000}
	u := cpuBetween(a, b)
	want := []roleUse{{"postgres", 0.7}, {"report", 0.4}, {"load", 0.03}}
	if len(u.roles) != len(want) {
		t.Fatalf("roles %v, want %v", u.roles, want)
	}
	for i, w := range want {
		if u.roles[i].role != w.role || u.roles[i].cores < w.cores-1e-9 || u.roles[i].cores > w.cores+1e-9 {
			t.Fatalf("role %d: %v, want %v", i, u.roles[i], w)
		}
	}
	if u.busy < 0.95-1e-9 || u.busy > 0.95+1e-9 {
		t.Fatalf("busy %v, want 0.95", u.busy)
	}
	if got := u.total(); got < 1.13-1e-9 || got > 1.13+1e-9 {
		t.Fatalf("total %v, want 1.13", got)
	}
}

func TestProcessCPUReadsThisProcess(t *testing.T) {
	role, _, ok := processCPU(filepath.Join("/proc", strconv.Itoa(os.Getpid())))
	if !ok {
		t.Fatal("cannot read this process's /proc entry")
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	if want := string(comm[:len(comm)-1]); role != want {
		t.Fatalf("role %q, want the command name %q", role, want)
	}
	if s := sampleCPU(); s.unreadable || s.all == 0 || len(s.procs) == 0 {
		t.Fatalf("sample %+v", s)
	}
}
