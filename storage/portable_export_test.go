package storage

import (
	"context"
	"fmt"
)

// Isolation is the isolation level PostgreSQL reports for the
// transaction the store passed to a closure: an enrollment.Tx, or a
// batch.Tx or batch.CloseTx run on bun (not pgfast's close).
func Isolation(ctx context.Context, t any) (string, error) {
	var cur *tx
	switch v := t.(type) {
	case *tx:
		cur = v
	case sqliteBatchTx:
		cur = v.tx
	case pgBatchTx:
		cur = v.tx
	case sqliteCloseTx:
		cur = v.tx
	default:
		return "", fmt.Errorf("storage: no bun transaction in a %T", t)
	}
	var level string
	err := cur.tx.NewRaw("SHOW transaction_isolation").Scan(ctx, &level)
	return level, err
}
