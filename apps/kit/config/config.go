// Package config reads service settings from environment variables, the one
// source of configuration for every app (local runs, tests and Kubernetes).
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
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
	Service string
	// Env is the deployment environment (GOVERN_ENV): local (make run, make
	// test) or one of the cluster environments dev, staging, prod.
	Env         string
	HTTPAddr    string
	DatabaseURL string
	JWTSecret   string
	DaprHTTP    string // base URL of the sidecar's HTTP API
	DaprGRPC    string // host:port of the sidecar's gRPC API
	PubSub      string
	// AppAPIToken (APP_API_TOKEN) is what the sidecar sends in the
	// dapr-api-token header on every call to the app; the sidecar-only routes
	// answer 401 without it.
	AppAPIToken string
	// DaprAPIToken (DAPR_API_TOKEN) is what the app sends to its own sidecar
	// when the sidecar requires it; empty where the sidecar's API is open.
	DaprAPIToken string
}

// DefaultJWTSecret is the contract's local-mode signing secret. It is public,
// so no environment but local may run with it.
const DefaultJWTSecret = "local-dev-secret"

// Environments are the values GOVERN_ENV may take.
var Environments = []string{"local", "dev", "staging", "prod"}

// LoadCommon reads the shared settings; defPort is the service's own local port.
func LoadCommon(service, defPort, defDB string) Common {
	return Common{
		Service:      service,
		Env:          String("GOVERN_ENV", "local"),
		HTTPAddr:     String("HTTP_ADDR", "127.0.0.1:"+defPort),
		DatabaseURL:  String("DATABASE_URL", "postgres://postgres@127.0.0.1:15432/"+defDB+"?sslmode=disable"),
		JWTSecret:    String("GOVERN_JWT_SECRET", DefaultJWTSecret),
		DaprHTTP:     "http://127.0.0.1:" + String("DAPR_HTTP_PORT", "3500"),
		DaprGRPC:     "127.0.0.1:" + String("DAPR_GRPC_PORT", "50001"),
		PubSub:       String("PUBSUB_NAME", "pubsub"),
		AppAPIToken:  os.Getenv("APP_API_TOKEN"),
		DaprAPIToken: os.Getenv("DAPR_API_TOKEN"),
	}
}

// MinSecretLen is the shortest token or signing secret a service accepts.
const MinSecretLen = 32

// CheckServe reports every reason the settings are unsafe to serve with: a
// missing or short app API token (the sidecar-only routes would be open or
// guessable), an unknown environment, or, outside local, the public default
// JWT secret or a short one.
func (c Common) CheckServe() error {
	var errs []error
	if !slices.Contains(Environments, c.Env) {
		errs = append(errs, fmt.Errorf("GOVERN_ENV=%q is not one of %v", c.Env, Environments))
	}
	if len(c.AppAPIToken) < MinSecretLen {
		errs = append(errs, fmt.Errorf("APP_API_TOKEN must be set to at least %d bytes: the sidecar sends it on every call "+
			"and the sidecar-only routes refuse calls without it (make run and make test generate one)", MinSecretLen))
	}
	if c.DaprAPIToken != "" && len(c.DaprAPIToken) < MinSecretLen {
		errs = append(errs, fmt.Errorf("DAPR_API_TOKEN must be at least %d bytes when set", MinSecretLen))
	}
	if c.Env != "local" {
		switch {
		case c.JWTSecret == DefaultJWTSecret:
			errs = append(errs, fmt.Errorf("GOVERN_JWT_SECRET is the public local default; set a secret of your own in %s", c.Env))
		case len(c.JWTSecret) < MinSecretLen:
			errs = append(errs, fmt.Errorf("GOVERN_JWT_SECRET must be at least %d bytes in %s", MinSecretLen, c.Env))
		}
	}
	return errors.Join(errs...)
}
