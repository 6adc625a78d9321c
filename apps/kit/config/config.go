// Package config reads service settings from environment variables, the one
// source of configuration for every app (local runs, tests and Kubernetes).
package config

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// String returns the variable's value, or def when it is unset or empty.
func String(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Int returns the variable as an int, or def when unset. A malformed value is a
// configuration error and stops the program at start-up.
func Int(key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("config: %s=%q is not an integer", key, v))
	}
	return n
}

// Duration returns the variable as a Go duration, or def when unset.
func Duration(key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("config: %s=%q is not a duration", key, v))
	}
	return d
}

// Common holds the settings every service reads the same way.
type Common struct {
	Service     string
	HTTPAddr    string
	DatabaseURL string
	JWTSecret   string
	DaprHTTP    string // base URL of the sidecar's HTTP API
	DaprGRPC    string // host:port of the sidecar's gRPC API
	PubSub      string
}

// LoadCommon reads the shared settings; defPort is the service's own local port.
func LoadCommon(service, defPort, defDB string) Common {
	return Common{
		Service:     service,
		HTTPAddr:    String("HTTP_ADDR", "127.0.0.1:"+defPort),
		DatabaseURL: String("DATABASE_URL", "postgres://postgres@127.0.0.1:15432/"+defDB+"?sslmode=disable"),
		JWTSecret:   String("GOVERN_JWT_SECRET", "local-dev-secret"),
		DaprHTTP:    "http://127.0.0.1:" + String("DAPR_HTTP_PORT", "3500"),
		DaprGRPC:    "127.0.0.1:" + String("DAPR_GRPC_PORT", "50001"),
		PubSub:      String("PUBSUB_NAME", "pubsub"),
	}
}
