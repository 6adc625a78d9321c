package pg_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/govern/kit/pg"
)

func TestRefusedTellsPoisonFromPassingFailures(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"22021": true, // invalid byte sequence (NUL in text)
		"22P02": true, // invalid text representation
		"22003": true, // numeric value out of range
		"23514": true, // check violation
		"23502": true, // not null violation
		"54000": true, // program limit exceeded (index row too large)
		"23505": false, "40001": false, "40P01": false, "57P01": false, "08006": false, "P0001": false,
	} {
		err := fmt.Errorf("record decision: %w", &pgconn.PgError{Code: code})
		if got := pg.Refused(err); got != want {
			t.Errorf("Refused(%s) = %v, want %v", code, got, want)
		}
	}
	if pg.Refused(errors.New("connection reset")) || pg.Refused(nil) {
		t.Error("an error that is not PostgreSQL's answer counts as refused")
	}
}
