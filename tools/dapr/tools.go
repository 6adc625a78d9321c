//go:build tools

// Package tools pins the Dapr control-plane commands built from this module.
package tools

import (
	_ "github.com/dapr/dapr/cmd/placement"
	_ "github.com/dapr/dapr/cmd/scheduler"
)
