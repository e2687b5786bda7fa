package pgfast

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/edufund/edufund/enrollment/batch"
)

// For the external tests, which need a migrated database (package storage).

// WithConn is withConn.
func (s *Store) WithConn(ctx context.Context, fn func(c *pgx.Conn) error) error {
	return s.withConn(ctx, fn)
}

// QueryInPipeline runs query, prepared as name, in a pipeline and scans
// its rows.
func (s *Store) QueryInPipeline(ctx context.Context, name, query string, scan func(pgx.Rows) error) error {
	st := &pgStmt{name, query}
	return s.withConn(ctx, func(c *pgx.Conn) error {
		return s.runPipeline(ctx, c, []pgQuery{{stmt: st, scan: scan}})
	})
}

// CloseConn is the pgx transaction of a page of the close.
func CloseConn(tx batch.CloseTx) pgx.Tx { return tx.(*pgCloseTx).tx }

// LockContractsStatement is the name and text of the close's lock statement.
func LockContractsStatement() (name, sql string) { return pgLockWritten.name, pgLockWritten.sql }

// PlanSettings is the text of the statement that begins every pipeline.
func PlanSettings() string { return pgPlanSettings.sql }

// CloseSettings are the planner settings of a close page's transaction.
const CloseSettings = closeSettings

// CloseStatements is the text of every statement a close page runs under
// CloseSettings, by name.
func CloseStatements() map[string]string {
	out := map[string]string{}
	for _, st := range []*pgStatement{pgLockContracts, pgLockWritten, pgClosePage, pgCloseInvoices} {
		out[st.name] = st.sql
	}
	return out
}

// BatchStatements is the text of every statement a batch runs under the
// pipeline's plan settings, by name.
func BatchStatements() map[string]string {
	out := map[string]string{
		"locked_lock_certificates": pgLockCertificatesSQL,
		"locked_lock_accounts":     pgLockAccountsSQL,
		"locked_accounts":          pgAccountsSQL,
		"locked_lock_counters":     pgLockCountersSQL,
	}
	for _, st := range []*pgStmt{pgReadKeys, pgReadCertificates, pgReadAccounts, pgReadContracts, pgReadOffers, pgReadCounters,
		pgLockCertificates, pgInsertRows, pgUpdateAccounts, pgInsertAccounts, pgInsertCounters, pgLockCounters, pgGuardCounters} {
		out[st.name] = st.sql
	}
	return out
}
