package pgfast

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPipelineParams checks the pipeline's own encoding of the batches'
// arrays against pgx's, byte for byte: NULL elements, empty arrays, dates
// before and after 2000 (an empty array has no dimensions, as
// PostgreSQL's own array_send writes it), times with nanoseconds and in another zone; and
// that a value of another type, or one sent as another type than its Go
// type encodes, still goes through pgx.
func TestPipelineParams(t *testing.T) {
	id := uuid.MustParse("01890000-0000-7000-8000-000000000001")
	msk := time.FixedZone("MSK", 3*3600)
	cases := []struct {
		name string
		oid  uint32
		arg  any
		own  bool // encoded by pipelineParams, not pgx
	}{
		{"uuids", oidUUIDArray, []pgtype.UUID{{Bytes: id, Valid: true}, {}, {Bytes: id, Valid: true}}, true},
		{"uuids none", oidUUIDArray, []pgtype.UUID{}, true},
		{"dates", oidDateArray, []pgtype.Date{
			{Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Valid: true}, {},
			{Time: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), Valid: true},
			{Time: time.Date(2026, 3, 1, 23, 30, 0, 0, msk), Valid: true}}, true},
		{"infinite date", oidDateArray, []pgtype.Date{{InfinityModifier: pgtype.Infinity, Valid: true}}, false},
		{"times", oidTimestamptzArray, []pgtype.Timestamptz{
			{Time: time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC), Valid: true}, {},
			{Time: time.Date(1970, 1, 1, 0, 0, 0, 1000, msk), Valid: true}}, true},
		{"int8s", oidInt8Array, []int64{0, -1, 1 << 40}, true},
		{"int4s", oidInt4Array, []int32{7, -7}, true},
		{"bools", oidBoolArray, []bool{true, false}, true},
		{"texts", oidTextArray, []string{"", "мун-1", "a"}, true},
		{"texts none", oidTextArray, []string{}, true},
		{"nullable texts", oidTextArray, []pgtype.Text{{String: "2026-03", Valid: true}, {}}, true},
		{"byteas", oidByteaArray, [][]byte{[]byte(`{"a":1}`), {}, nil}, true},
		{"time", oidTimestamptz, time.Date(2026, 3, 1, 9, 0, 0, 5000, msk), true},
		{"int as int8", oidInt8, 42, true},
		{"int as int4", oidInt4, 42, true},
		{"int past int4", oidInt4, 1 << 40, false},
		{"int8s as int4s", oidInt4Array, []int64{1}, false},
		{"string", oidText, "x", false},
	}
	m := pgtype.NewMap()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &pgParams{}
			assert.Equal(t, c.own, p.arg(c.oid, c.arg))
			if !c.own {
				return
			}
			want, err := m.Encode(c.oid, pgx.BinaryFormatCode, c.arg, nil)
			require.NoError(t, err)
			if reflect.ValueOf(c.arg).Kind() == reflect.Slice && reflect.ValueOf(c.arg).Len() == 0 {
				// pgx sends an empty array as one dimension of length 0;
				// array_send sends no dimensions; array_recv takes both.
				want = append(make([]byte, 8), want[8:12]...)
			}
			assert.Equal(t, want, p.values()[0])
		})
	}

	// codec.args hands each column over as a pointer to its array: it is
	// encoded as the array is, by the pipeline or by pgx.
	for _, c := range cases {
		rv := reflect.ValueOf(c.arg)
		if rv.Kind() != reflect.Slice {
			continue
		}
		ptr := reflect.New(rv.Type())
		ptr.Elem().Set(rv)
		t.Run(c.name+" by pointer", func(t *testing.T) {
			p, q := &pgParams{}, &pgParams{}
			require.Equal(t, c.own, p.arg(c.oid, ptr.Interface()))
			if c.own {
				q.arg(c.oid, c.arg)
				assert.Equal(t, q.values(), p.values())
				return
			}
			want, wantErr := m.Encode(c.oid, pgx.BinaryFormatCode, c.arg, nil)
			got, err := m.Encode(c.oid, pgx.BinaryFormatCode, ptr.Interface(), nil)
			assert.Equal(t, wantErr, err)
			assert.Equal(t, want, got)
		})
	}

	// A whole statement: own and pgx's encodings side by side, each its own
	// slice of the buffer, and a NULL scalar is nil.
	sd := &pgconn.StatementDescription{ParamOIDs: []uint32{oidUUIDArray, oidText, oidInt8, oidTimestamptz}}
	p := &pgParams{}
	vals, formats, err := pipelineParams(m, sd, []any{[]pgtype.UUID{{Bytes: id, Valid: true}}, "x", 5, pgtype.Timestamptz{}}, p)
	require.NoError(t, err)
	require.Len(t, vals, 4)
	assert.Equal(t, []int16{1, 1, 1, 1}, formats)
	assert.Equal(t, "x", string(vals[1]))
	assert.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 5}, vals[2])
	assert.Nil(t, vals[3])
	assert.NotNil(t, vals[0])

	_, _, err = pipelineParams(m, sd, []any{1}, p)
	assert.ErrorContains(t, err, "4 parameters, 1 arguments")
}
