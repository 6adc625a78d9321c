//go:build tools

// Package tools pins the dapr CLI (v1.16.5) used for `dapr run -f dapr.yaml`.
package tools

import _ "github.com/dapr/cli"
