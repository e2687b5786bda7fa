package pgfast

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// TestCodecArgs checks the column arrays of every table the batches write
// (and of the programs, for their tags):
// each column holds its own rows' values (the arrays cut from one
// allocation do not overlap), as a pointer to its array, and a call
// allocates a few objects per element type, not per column.
func TestCodecArgs(t *testing.T) {
	day, err := funding.ParseDate("2026-03-01")
	require.NoError(t, err)
	march, err := funding.ParseMonth("2026-03")
	require.NoError(t, err)
	// value is row i's value of column j, distinct for every (i, j).
	value := func(k columnKind, i, j int) any {
		id := uuid.UUID{0: byte(i + 1), 1: byte(j + 1), 6: 0x70, 8: 0x80}
		switch k {
		case kindUUID:
			return id
		case kindNullUUID:
			return schema.NullUUID(id)
		case kindText:
			return fmt.Sprintf("%d/%d", i, j)
		case kindInt8:
			return int64(100*i + j)
		case kindInt4:
			return 100*i + j
		case kindBool:
			return (i+j)%2 == 0
		case kindDate:
			return schema.Date(day.AddDays(100*i + j))
		case kindTime:
			return schema.Time(time.Date(2026, 3, 1, 0, i, j, 1000, time.UTC))
		case kindMonth:
			return schema.Month(march.Add(100*i + j))
		case kindBytes:
			return fmt.Appendf(nil, `{"r":%d,"c":%d}`, i, j)
		case kindTags:
			return schema.Tags{fmt.Sprint(i), fmt.Sprint(j)}
		}
		panic(k)
	}
	// sent is what the array of a column holds for a value.
	sent := func(k columnKind, v any) any {
		switch k {
		case kindUUID:
			return pgUUID(v.(uuid.UUID))
		case kindNullUUID:
			return pgUUID(uuid.UUID(v.(schema.NullUUID)))
		case kindInt4:
			return int32(v.(int))
		case kindDate:
			return pgDate(funding.Date(v.(schema.Date)))
		case kindTime:
			return pgtype.Timestamptz{Time: time.Time(v.(schema.Time)), Valid: true}
		case kindMonth:
			return pgtype.Text{String: funding.Month(v.(schema.Month)).String(), Valid: true}
		case kindTags:
			return v.(schema.Tags).JSON()
		}
		return v
	}
	for _, c := range []*codec{contractCodec, holdCodec, postingCodec, eventCodec, accountCodec, counterCodec, idempotencyCodec, programCodec} {
		t.Run(c.table.Name, func(t *testing.T) {
			const n = 3
			rows := reflect.MakeSlice(reflect.SliceOf(c.table.Type), n, n)
			for i := range n {
				for j, col := range c.table.Columns {
					rows.Index(i).Field(col.Index).Set(reflect.ValueOf(value(c.kinds[j], i, j)))
				}
			}
			args := c.args(rows.Interface())
			require.Len(t, args, len(c.table.Columns))
			for j, col := range c.table.Columns {
				a := reflect.ValueOf(args[j])
				require.Equal(t, reflect.Pointer, a.Kind(), "column %s", col.Name)
				require.Equal(t, n, a.Elem().Len(), "column %s", col.Name)
				for i := range n {
					assert.Equal(t, sent(c.kinds[j], value(c.kinds[j], i, j)), a.Elem().Index(i).Interface(), "column %s, row %d", col.Name, i)
				}
			}
			types, months := map[columnKind]bool{}, 0
			for _, k := range c.kinds {
				if k == kindMonth {
					months++ // its text is made per row
				}
				switch k {
				case kindNullUUID:
					k = kindUUID // ids and nullable ids share their arrays
				case kindTags:
					k = kindText // so do texts and tags
				}
				types[k] = true
			}
			if c == programCodec {
				return // read by the batches, never written: its tags are encoded row by row
			}
			rowsAny := rows.Interface()
			allocs := testing.AllocsPerRun(20, func() { c.args(rowsAny) })
			assert.LessOrEqual(t, allocs, float64(2+2*len(types)+n*months), "%d columns of %d element types", len(c.table.Columns), len(types))
		})
	}
}
