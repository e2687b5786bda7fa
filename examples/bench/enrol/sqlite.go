package main

import (
	"context"
	"fmt"
)

func runSQLite(ctx context.Context, o options) error {
	return fmt.Errorf("-sqlite: not yet")
}
