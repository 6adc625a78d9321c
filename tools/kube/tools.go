//go:build tools

// Package tools pins kube-apiserver v1.34.2 (built straight from
// k8s.io/kubernetes; its staging modules are replaced by their published
// v0.34.2 versions below, since the module's own replaces point into a tree
// the module zip does not carry as modules).
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
