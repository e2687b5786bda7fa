package storage

import (
	"context"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// AddParameter appends a version of a parameter; the database assigns its
// Version.
func (t *tx) AddParameter(ctx context.Context, p enrollment.Parameter) (enrollment.Parameter, error) {
	r := schema.FromParameter(p)
	r.Version = 0
	if _, err := t.tx.NewInsert().Model(r).Returning("version").Exec(ctx); err != nil {
		return enrollment.Parameter{}, t.write(err, "add parameter "+p.Name)
	}
	return r.Domain(), nil
}

// Parameters lists every stored version in Version order.
func (t *tx) Parameters(ctx context.Context) ([]enrollment.Parameter, error) {
	var rows []schema.Parameter
	if err := t.tx.NewSelect().Model(&rows).Order("version").Scan(ctx); err != nil {
		return nil, t.read(err, "parameters", "")
	}
	out := make([]enrollment.Parameter, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}
