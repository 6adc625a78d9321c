package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The statements' side of a phase's profiles: make load starts PostgreSQL
// with pg_stat_statements loaded (scripts/load.sh), the counters are reset
// before each phase, and after it the top statements of the whole server
// (every database: the apps' and the sidecars' state store) by total
// execution time go to <profiles>/<phase>-pg-statements.txt. Execution
// time is wall time inside the server, so on a busy machine it includes
// the time a backend waited for a core; calls and rows are exact.

func (l *load) resetStatements(ctx context.Context) {
	if _, err := l.report.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		logf("pg_stat_statements unavailable (%v): no statement profile for this run", err)
		return
	}
	if _, err := l.report.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		logf("pg_stat_statements reset: %v", err)
	}
}

func (l *load) writeStatements(ctx context.Context, phase string, took time.Duration) {
	rows, err := l.report.Query(ctx, `SELECT d.datname, s.calls, s.total_exec_time, s.rows, s.query
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		ORDER BY s.total_exec_time DESC LIMIT 20`)
	if err != nil {
		logf("pg_stat_statements read: %v", err)
		return
	}
	defer rows.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "# phase %s (%s): top statements by total execution time, every database\n", phase, took.Round(time.Second))
	fmt.Fprintf(&b, "# database | calls | total ms | ms per call | rows | statement\n")
	var top []string
	for rows.Next() {
		var (
			db, query   string
			calls, rowN int64
			total       float64
		)
		if err := rows.Scan(&db, &calls, &total, &rowN, &query); err != nil {
			logf("pg_stat_statements scan: %v", err)
			return
		}
		q := strings.Join(strings.Fields(query), " ")
		fmt.Fprintf(&b, "%s | %d | %.0f | %.3f | %d | %s\n", db, calls, total, total/float64(max(calls, 1)), rowN, q)
		if len(top) < 3 {
			if len(q) > 70 {
				q = q[:70] + "…"
			}
			top = append(top, fmt.Sprintf("%s %.0f ms in %d calls: %s", db, total, calls, q))
		}
	}
	if err := rows.Err(); err != nil {
		logf("pg_stat_statements read: %v", err)
		return
	}
	file := filepath.Join(l.profiles, phase+"-pg-statements.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		logf("write %s: %v", file, err)
		return
	}
	logf("phase %s: top statements (%s): %s", phase, file, strings.Join(top, "; "))
}
