//go:build tools

// Package tools pins the Pulumi CLI so that `go mod tidy` keeps its module graph.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
