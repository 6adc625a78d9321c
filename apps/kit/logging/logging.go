// Package logging sets up the structured JSON logger every service writes to
// standard output, tagged with the service name.
package logging

import (
	"log/slog"
	"os"
	"strings"
)

// New returns a JSON logger for service and installs it as slog's default, so
// libraries that log through slog carry the same fields.
func New(service string) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})
	l := slog.New(h).With("service", service)
	slog.SetDefault(l)
	return l
}
