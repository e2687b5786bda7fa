package pgfast

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

// TestPGParams checks the close's parameter encoder: each parameter is its
// own slice of the shared buffer, in order, with array_send's layout; an
// empty text is empty and not NULL (nil); and a reused buffer encodes the
// same bytes again.
func TestPGParams(t *testing.T) {
	id := uuid.MustParse("01890000-0000-7000-8000-000000000001")
	d, err := funding.ParseDate("2026-03-01")
	require.NoError(t, err)
	encode := func(p *pgParams) [][]byte {
		p.text("") // first, so that nothing precedes it in the buffer
		p.uuids(2, func(int) uuid.UUID { return id })
		p.int8s(1, func(int) int64 { return -5 })
		p.dates(1, func(int) funding.Date { return d })
		p.texts(2, func(i int) string { return []string{"ab", ""}[i] })
		p.int4s(0, func(int) int32 { return 0 })
		p.int8(7)
		p.timestamptz(time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC))
		p.tids(1, func(int) tid { return tid{0, 0, 1, 2, 0, 7} })
		return p.values()
	}
	tx := &pgCloseTx{store: &Store{closeParams: make(chan *pgParams, 1)}}
	p := tx.params()
	vs := encode(p)
	require.Len(t, vs, 9)

	assert.NotNil(t, vs[0], "an empty text must not be sent as NULL")
	assert.Empty(t, vs[0])

	be := binary.BigEndian
	arr := func(b []byte, oid uint32, n int) []byte {
		t.Helper()
		require.GreaterOrEqual(t, len(b), 12)
		if n == 0 {
			assert.Equal(t, []uint32{0, 0, oid}, []uint32{be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:])})
			assert.Len(t, b, 12)
			return nil
		}
		require.GreaterOrEqual(t, len(b), 20)
		assert.Equal(t, []uint32{1, 0, oid, uint32(n), 1},
			[]uint32{be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:]), be.Uint32(b[12:]), be.Uint32(b[16:])})
		return b[20:]
	}
	e := arr(vs[1], oidUUID, 2)
	assert.Equal(t, append(append(be.AppendUint32(nil, 16), id[:]...), append(be.AppendUint32(nil, 16), id[:]...)...), e)
	e = arr(vs[2], oidInt8, 1)
	assert.Equal(t, be.AppendUint64(be.AppendUint32(nil, 8), uint64(0xfffffffffffffffb)), e)
	e = arr(vs[3], oidDate, 1)
	assert.Equal(t, be.AppendUint32(be.AppendUint32(nil, 4), uint32(9556)), e, "2026-03-01 is day 9556 after 2000-01-01")
	e = arr(vs[4], oidText, 2)
	assert.Equal(t, append(append(be.AppendUint32(nil, 2), "ab"...), be.AppendUint32(nil, 0)...), e)
	arr(vs[5], oidInt4, 0)
	assert.Equal(t, be.AppendUint64(nil, 7), vs[6])
	assert.Equal(t, be.AppendUint64(nil, 1_000_000), vs[7], "microseconds since 2000-01-01")
	e = arr(vs[8], oidTID, 1)
	assert.Equal(t, append(be.AppendUint32(nil, 6), 0, 0, 1, 2, 0, 7), e, "block 258, offset 7")

	// Copy what was sent: a reused buffer is overwritten.
	sent := make([][]byte, len(vs))
	for i, v := range vs {
		sent[i] = append([]byte{}, v...)
	}
	tx.release(p)
	q := tx.params()
	assert.Same(t, p, q, "a released buffer is reused")
	assert.Equal(t, sent, encode(q))
}
