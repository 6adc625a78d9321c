package main

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	report "github.com/govern/report/domain"
	reviewer "github.com/govern/reviewer/domain"
)

// Policy is a jury policy as the report service runs it; times in hours.
type Policy struct {
	Name           string
	Adaptive       bool
	JurySize       int
	Quorum         int
	Jury           report.AdaptiveJury
	MaxSubstitutes int
	JurorTimeout   float64
	MaxDuration    float64
	OnTimeout      string
}

// Classic is a jury_size/quorum policy with the service's default timings.
func Classic(size, quorum int) Policy {
	return withDefaults(Policy{Name: fmt.Sprintf("%d/%d", size, quorum), JurySize: size, Quorum: quorum})
}

// Adaptive is an adaptive policy with the service's default timings.
func Adaptive(a report.AdaptiveJury) Policy {
	return withDefaults(Policy{Name: fmt.Sprintf("adaptive %d-%d", a.MinJury, a.MaxJury), Adaptive: true, Jury: a})
}

func withDefaults(p Policy) Policy {
	d := report.DefaultPolicy("item")
	p.MaxSubstitutes = d.MaxSubstitutes
	p.JurorTimeout = hours(d.JurorTimeout)
	p.MaxDuration = hours(d.MaxDuration)
	p.OnTimeout = d.OnTimeout
	return p
}

func hours(d report.Duration) float64 { return float64(d) / 3.6e12 }

// Settings are what a run shares across policies and scenarios.
type Settings struct {
	Seed         uint64
	Cases        int
	Jurors       int
	CasesPerHour float64
	Gold         bool
	GoldMix      reviewer.GoldMix
	Appeals      bool
	AppealWindow float64 // hours
	Rule         reviewer.AccuracyRule
	Prior        reviewer.AccuracyPrior
	MaxOpen      int
}

// DefaultSettings are the platform's defaults and a pool of 400 jurors
// taking 30 reports an hour.
func DefaultSettings() Settings {
	return Settings{
		Seed: 1, Cases: 20_000, Jurors: 400, CasesPerHour: 30,
		GoldMix: reviewer.DefaultGoldMix(reviewer.DefaultGoldRate), AppealWindow: hours(report.Duration(report.DefaultAppealWindow)),
		Rule: reviewer.DefaultAccuracyRule(), Prior: reviewer.DefaultAccuracyPrior(),
		MaxOpen: reviewer.DefaultFatigue().MaxOpen,
	}
}

// Result is one line of the table.
type Result struct {
	Policy, Scenario string
	Gold, Appeals    bool

	Cases           int
	Correct         float64 // share of cases whose final decision is right
	Undecided       float64 // share closed undecided or escalated
	JurorsPerCase   float64 // seats drawn, every round, gold tasks excluded
	HoursToDecision float64 // arrival to first decision
	Substituted     float64 // share of cases with a seat released for not answering
	Gini            float64 // of real tasks over jurors never suspended
	GoldShare       float64 // gold tasks over all tasks

	Lazy, LazySuspended int
	LazyTasks           float64 // mean tasks offered until suspension
	LazyTasksMax        int
	Honest              int
	HonestSuspended     int

	Appealed, Overturned float64
}

// Line is the table row: policy, scenario, accuracy, jury size, then the rest.
func (r Result) Line() string {
	flags := ""
	if r.Gold {
		flags += " gold"
	}
	if r.Appeals {
		flags += " appeals"
	}
	lazyPart := "no lazy voters"
	if r.Lazy > 0 {
		lazyPart = fmt.Sprintf("lazy voters suspended after %.1f tasks (max %d, %d/%d)", r.LazyTasks, r.LazyTasksMax, r.LazySuspended, r.Lazy)
	}
	line := fmt.Sprintf("%s %s%s: %.1f%% correct, %.1f jurors per case, %.1fh to decision, %.1f%% undecided, %.0f%% needed substitutes, load Gini %.2f, %s, %d of %d honest jurors suspended",
		r.Policy, r.Scenario, flags, 100*r.Correct, r.JurorsPerCase, r.HoursToDecision, 100*r.Undecided,
		100*r.Substituted, r.Gini, lazyPart, r.HonestSuspended, r.Honest)
	if r.Gold {
		line += fmt.Sprintf(", %.1f%% of tasks gold", 100*r.GoldShare)
	}
	if r.Appeals {
		line += fmt.Sprintf(", %.1f%% appealed, %.1f%% overturned", 100*r.Appealed, 100*r.Overturned)
	}
	return line
}

type seatState int

const (
	seatOpen seatState = iota
	seatVoted
	seatReleased
	seatClosed
)

type seat struct {
	j     *juror
	rel   report.Reliability
	state seatState
	vote  string
}

type round struct {
	n        int
	jury     report.AdaptiveJury
	size     int
	quorum   int
	seats    []*seat
	released int
	subs     int
	tally    report.Tally
	over     bool
	decision string
}

type simCase struct {
	id        int
	truth     string
	friend    bool
	arrival   float64
	rounds    []*round
	drawn     []int
	first     string
	firstAt   float64
	final     string
	released  bool
	appealed  bool
	goldTasks int
}

type eventKind int

const (
	evArrive eventKind = iota
	evVote
	evTimeout
	evDeadline
	evAppeal
)

type event struct {
	t    float64
	seq  int
	kind eventKind
	c    *simCase
	r    *round
	s    *seat
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(a, b int) bool {
	if q[a].t != q[b].t {
		return q[a].t < q[b].t
	}
	return q[a].seq < q[b].seq
}
func (q queue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	p      Policy
	sc     Scenario
	set    Settings
	rng    *rand.Rand
	jurors []*juror
	cases  []*simCase
	q      queue
	seq    int
	now    float64
}

// Run simulates set.Cases reports under policy p in scenario s.
func Run(p Policy, s Scenario, set Settings) Result {
	r, _ := runKeep(p, s, set)
	return r
}

func runKeep(p Policy, s Scenario, set Settings) (Result, []*juror) {
	m := &sim{p: p, sc: s, set: set, rng: rand.New(rand.NewPCG(set.Seed, seedOf(p.Name+"|"+s.Name)))}
	m.jurors = newPopulation(s, set.Jurors, m.rng)
	m.schedule(0, evArrive, &simCase{id: 0}, nil, nil)
	for m.q.Len() > 0 {
		e := heap.Pop(&m.q).(*event)
		m.now = e.t
		switch e.kind {
		case evArrive:
			m.arrive(e.c)
		case evVote:
			m.onVote(e.c, e.r, e.s)
		case evTimeout:
			m.onTimeout(e.c, e.r, e.s)
		case evDeadline:
			m.onDeadline(e.c, e.r)
		case evAppeal:
			m.startRound(e.c, 2)
		}
	}
	return m.result(), m.jurors
}

// seedOf gives every policy and scenario its own stream of the same seed,
// so adding a line to the table does not change the others.
func seedOf(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (m *sim) schedule(t float64, k eventKind, c *simCase, r *round, s *seat) {
	m.seq++
	heap.Push(&m.q, &event{t: t, seq: m.seq, kind: k, c: c, r: r, s: s})
}

func (m *sim) arrive(c *simCase) {
	c.arrival = m.now
	c.truth = reviewer.VoteReject
	if m.rng.Float64() < m.sc.UpheldShare {
		c.truth = reviewer.VoteUphold
	}
	c.friend = m.rng.Float64() < m.sc.FriendShare
	m.cases = append(m.cases, c)
	if len(m.cases) < m.set.Cases {
		next := m.now + m.rng.ExpFloat64()/m.set.CasesPerHour
		m.schedule(next, evArrive, &simCase{id: len(m.cases)}, nil, nil)
	}
	m.startRound(c, 1)
}

func (m *sim) startRound(c *simCase, n int) {
	r := &round{n: n}
	c.rounds = append(c.rounds, r)
	if n > 1 {
		c.appealed = true
	}
	m.schedule(m.now+m.p.MaxDuration, evDeadline, c, r, nil)
	if m.p.Adaptive {
		r.jury = m.p.Jury
		if n > 1 {
			r.jury = m.p.Jury.Appeal()
		}
		m.advance(c, r)
		return
	}
	r.size, r.quorum = m.p.JurySize, m.p.Quorum
	if n > 1 {
		r.size = report.DefaultAppealJurySize(m.p.JurySize)
		r.quorum = report.AppealQuorum(r.size)
	}
	m.draw(c, r, r.size)
}

// draw seats up to k jurors and says how many it seated.
func (m *sim) draw(c *simCase, r *round, k int) int {
	seated := 0
	for seated < k {
		j := m.pick(c)
		if j == nil {
			break
		}
		if m.seat(c, r, j) {
			seated++
		}
	}
	return seated
}

func (m *sim) eligible(j *juror, c *simCase) bool {
	return !j.suspended && j.open < m.set.MaxOpen && !slices.Contains(c.drawn, j.id)
}

// pick draws one eligible juror uniformly at random, as the reviewer
// service does (rejection sampling, then a scan when the pool runs thin).
func (m *sim) pick(c *simCase) *juror {
	for range 64 {
		if j := m.jurors[m.rng.IntN(len(m.jurors))]; m.eligible(j, c) {
			return j
		}
	}
	var pool []*juror
	for _, j := range m.jurors {
		if m.eligible(j, c) {
			pool = append(pool, j)
		}
	}
	if len(pool) == 0 {
		return nil
	}
	return pool[m.rng.IntN(len(pool))]
}

// seat offers j this case's task, after whatever gold tasks the reviewer
// service mixes in first; false if a gold answer got j suspended.
func (m *sim) seat(c *simCase, r *round, j *juror) bool {
	for m.set.Gold {
		gold, answer := m.set.GoldMix.Next(j.gold, j.agreement, m.rng)
		if !gold {
			break
		}
		j.tasks++
		c.goldTasks++
		j.gold.Add(answer, j.vote(answer, false, m.rng))
		if m.check(j) {
			return false
		}
	}
	j.tasks++
	j.realTasks++
	j.open++
	c.drawn = append(c.drawn, j.id)
	up, rej := m.set.Prior.Estimate(j.record())
	s := &seat{j: j, rel: report.Reliability{Uphold: up, Reject: rej}}
	r.seats = append(r.seats, s)
	switch latency := m.sc.LatencyMedian * math.Exp(m.sc.LatencySigma*m.rng.NormFloat64()); {
	case m.rng.Float64() < m.sc.NoShow || latency >= m.p.JurorTimeout:
		m.schedule(m.now+m.p.JurorTimeout, evTimeout, c, r, s)
	default:
		m.schedule(m.now+latency, evVote, c, r, s)
	}
	return true
}

// check applies the accuracy rule to j's record; true if j is suspended.
func (m *sim) check(j *juror) bool {
	if j.suspended {
		return true
	}
	if suspend, _ := m.set.Rule.Verdict(j.record()); suspend {
		j.suspended = true
		j.suspendAt = j.tasks
	}
	return j.suspended
}

func (m *sim) onVote(c *simCase, r *round, s *seat) {
	if r.over || s.state != seatOpen {
		return
	}
	s.state = seatVoted
	s.vote = s.j.vote(c.truth, c.friend, m.rng)
	s.j.open--
	if m.p.Adaptive {
		m.advance(c, r)
		return
	}
	r.tally.Add(s.vote)
	if status, ok := r.tally.Decided(r.quorum); ok {
		m.close(c, r, status)
	}
}

func (m *sim) onTimeout(c *simCase, r *round, s *seat) {
	if r.over || s.state != seatOpen {
		return
	}
	s.state = seatReleased
	s.j.open--
	r.released++
	c.released = true
	if m.p.Adaptive {
		m.advance(c, r)
		return
	}
	if r.subs < m.p.MaxSubstitutes {
		r.subs++
		m.draw(c, r, 1)
	}
}

func (m *sim) onDeadline(c *simCase, r *round) {
	if r.over {
		return
	}
	if m.p.Adaptive {
		m.close(c, r, r.jury.Close(ballots(r), m.p.OnTimeout))
		return
	}
	m.close(c, r, report.Outcome(r.tally, report.Policy{Quorum: r.quorum, OnTimeout: m.p.OnTimeout}))
}

func ballots(r *round) []report.Ballot {
	var out []report.Ballot
	for _, s := range r.seats {
		if s.state == seatVoted {
			out = append(out, report.Ballot{Vote: s.vote, Reliability: s.rel})
		}
	}
	return out
}

// advance runs the sequential test until the round waits for answers or ends.
func (m *sim) advance(c *simCase, r *round) {
	for !r.over {
		st := report.AdaptiveState{Ballots: ballots(r), Released: r.released}
		for _, s := range r.seats {
			if s.state == seatOpen {
				st.Open = append(st.Open, s.rel)
			}
		}
		step := r.jury.Next(st, m.p.MaxSubstitutes, m.p.OnTimeout)
		switch {
		case step.Decision != "":
			m.close(c, r, step.Decision)
		case step.Draw == 0:
			return
		case m.draw(c, r, step.Draw) == 0:
			// Nobody left to draw: wait for the open seats, or close now.
			if len(st.Open) == 0 {
				m.close(c, r, r.jury.Close(st.Ballots, m.p.OnTimeout))
			}
			return
		}
	}
}

func answerOf(status string) string {
	switch status {
	case report.StatusUpheld:
		return reviewer.VoteUphold
	case report.StatusRejected:
		return reviewer.VoteReject
	}
	return ""
}

func (m *sim) close(c *simCase, r *round, status string) {
	r.over = true
	r.decision = status
	for _, s := range r.seats {
		if s.state == seatOpen {
			s.state = seatClosed
			s.j.open--
		}
	}
	if r.n == 1 {
		c.first, c.firstAt = status, m.now
	}
	c.final = status
	answer := answerOf(status)
	for _, s := range r.seats {
		if s.state == seatVoted && answer != "" {
			s.j.agreement.Add(answer, s.vote)
			m.check(s.j)
		}
	}
	if r.n > 1 {
		// The first round's jurors are measured against the final decision.
		old := answerOf(c.first)
		for _, s := range c.rounds[0].seats {
			if s.state != seatVoted || old == answer {
				continue
			}
			if old != "" {
				forget(&s.j.agreement, old, s.vote)
			}
			if answer != "" {
				s.j.agreement.Add(answer, s.vote)
				m.check(s.j)
			}
		}
		return
	}
	if m.set.Appeals && answer != "" {
		// The losing side appeals most decisions that wronged it, and a
		// few that did not.
		chance := 0.1
		if answer != c.truth {
			chance = 0.6
		}
		if m.rng.Float64() < chance {
			m.schedule(m.now+m.rng.Float64()*m.set.AppealWindow/2, evAppeal, c, nil, nil)
		}
	}
}

func (m *sim) result() Result {
	res := Result{Policy: m.p.Name, Scenario: m.sc.Name, Gold: m.set.Gold, Appeals: m.set.Appeals, Cases: len(m.cases)}
	var correct, undecided, seats, released, appealed, overturned, gold int
	var wait float64
	for _, c := range m.cases {
		if answerOf(c.final) == c.truth {
			correct++
		} else if answerOf(c.final) == "" {
			undecided++
		}
		for _, r := range c.rounds {
			seats += len(r.seats)
		}
		wait += c.firstAt - c.arrival
		if c.released {
			released++
		}
		if c.appealed {
			appealed++
		}
		if c.final != c.first {
			overturned++
		}
		gold += c.goldTasks
	}
	n := float64(len(m.cases))
	res.Correct, res.Undecided = float64(correct)/n, float64(undecided)/n
	res.JurorsPerCase, res.HoursToDecision = float64(seats)/n, wait/n
	res.Substituted, res.Appealed, res.Overturned = float64(released)/n, float64(appealed)/n, float64(overturned)/n
	if seats+gold > 0 {
		res.GoldShare = float64(gold) / float64(seats+gold)
	}
	var loads []int
	var lazyTasks int
	for _, j := range m.jurors {
		if !j.suspended {
			loads = append(loads, j.realTasks)
		}
		switch j.kind {
		case lazy:
			res.Lazy++
			if j.suspended {
				res.LazySuspended++
				lazyTasks += j.suspendAt
				res.LazyTasksMax = max(res.LazyTasksMax, j.suspendAt)
			}
		case honest:
			res.Honest++
			if j.suspended {
				res.HonestSuspended++
			}
		}
	}
	if res.LazySuspended > 0 {
		res.LazyTasks = float64(lazyTasks) / float64(res.LazySuspended)
	}
	res.Gini = gini(loads)
	return res
}
