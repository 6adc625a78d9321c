// Package postgres implements the reward repositories on PostgreSQL with pgx,
// and carries the schema migrations.
package postgres

import (
	"embed"
	"io/fs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the goose SQL migrations, rooted at their folder.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}
