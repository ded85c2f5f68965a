package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"kontakt/internal/app"
)

func init() {
	commands["version"] = command{"print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		fmt.Fprintf(stdout, "kontakt %s (%s)\n", app.Version, runtime.Version())
		return nil
	}}
}
