package pgfast

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The parameters of a pipeline's statements (pipeline.go) are the column
// arrays of args.go. pgx encodes a slice through its reflection-driven
// array plans, with an allocation per element, which was about a sixth of
// an enrolment batch's CPU in Go; the arrays of the types the batches send
// are encoded here instead, into one buffer, with the close's encoder
// (pgParams) and NULL elements. A parameter of any other Go type, or
// whose statement declares another type than the one its Go type is
// encoded as, goes through pgx's type map as before.

// More PostgreSQL type OIDs (the rest are with the close's).
const (
	oidBytea            = 17
	oidBoolArray        = 1000
	oidByteaArray       = 1001
	oidTimestamptzArray = 1185
)

// pipelineParams encodes the arguments of a statement described by sd:
// the parameter values (slices of p's buffer) and their formats: binary,
// unless pgx can encode the value only as text.
func pipelineParams(m *pgtype.Map, sd *pgconn.StatementDescription, args []any, p *pgParams) ([][]byte, []int16, error) {
	if len(args) != len(sd.ParamOIDs) {
		return nil, nil, fmt.Errorf("storage: statement has %d parameters, %d arguments given", len(sd.ParamOIDs), len(args))
	}
	formats := make([]int16, len(args))
	nulls := make([]bool, len(args))
	for i, a := range args {
		formats[i] = pgx.BinaryFormatCode
		if p.arg(sd.ParamOIDs[i], a) {
			continue
		}
		// Through pgx's type map: binary if it can, else text.
		start := len(p.buf)
		buf, err := m.Encode(sd.ParamOIDs[i], pgx.BinaryFormatCode, a, p.buf)
		if err != nil {
			formats[i] = pgx.TextFormatCode
			if buf, err = m.Encode(sd.ParamOIDs[i], pgx.TextFormatCode, a, p.buf); err != nil {
				return nil, nil, err
			}
		}
		if buf == nil {
			buf, nulls[i] = p.buf[:start], true
		}
		p.buf = buf
		p.end()
	}
	vals := p.values()
	for i, null := range nulls {
		if null {
			vals[i] = nil
		}
	}
	return vals, formats, nil
}

// arg encodes v as a value of type oid if it is one of the arrays (or
// scalars) the batches send as that type, and tells whether it did. An
// array may come as its slice or as a pointer to it (codec.args).
func (p *pgParams) arg(oid uint32, v any) bool {
	switch v := v.(type) {
	case []pgtype.UUID:
		return p.uuidArray(oid, v)
	case *[]pgtype.UUID:
		return p.uuidArray(oid, *v)
	case []pgtype.Date:
		return p.dateArray(oid, v)
	case *[]pgtype.Date:
		return p.dateArray(oid, *v)
	case []pgtype.Timestamptz:
		return p.timeArray(oid, v)
	case *[]pgtype.Timestamptz:
		return p.timeArray(oid, *v)
	case []int64:
		return p.int8Array(oid, v)
	case *[]int64:
		return p.int8Array(oid, *v)
	case []int32:
		return p.int4Array(oid, v)
	case *[]int32:
		return p.int4Array(oid, *v)
	case []bool:
		return p.boolArray(oid, v)
	case *[]bool:
		return p.boolArray(oid, *v)
	case []string:
		return p.textArray(oid, v)
	case *[]string:
		return p.textArray(oid, *v)
	case []pgtype.Text:
		return p.nullTextArray(oid, v)
	case *[]pgtype.Text:
		return p.nullTextArray(oid, *v)
	case [][]byte:
		return p.byteaArray(oid, v)
	case *[][]byte:
		return p.byteaArray(oid, *v)
	case time.Time:
		if oid != oidTimestamptz {
			return false
		}
		p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(micros(v)))
		p.end()
	case int:
		switch oid {
		case oidInt8:
			p.int8(int64(v))
		case oidInt4:
			if int(int32(v)) != v {
				return false
			}
			p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(int32(v)))
			p.end()
		default:
			return false
		}
	default:
		return false
	}
	return true
}

func (p *pgParams) uuidArray(oid uint32, v []pgtype.UUID) bool {
	if oid != oidUUIDArray {
		return false
	}
	p.nullable(oidUUID, len(v), 16, func(i int) bool { return v[i].Valid },
		func(b []byte, i int) []byte { return append(b, v[i].Bytes[:]...) })
	return true
}

func (p *pgParams) dateArray(oid uint32, v []pgtype.Date) bool {
	// An infinite date goes through pgx, which knows its encoding.
	if oid != oidDateArray || slices.ContainsFunc(v, func(d pgtype.Date) bool { return d.Valid && d.InfinityModifier != pgtype.Finite }) {
		return false
	}
	p.nullable(oidDate, len(v), 4, func(i int) bool { return v[i].Valid },
		func(b []byte, i int) []byte { return binary.BigEndian.AppendUint32(b, uint32(dateDays(v[i].Time))) })
	return true
}

func (p *pgParams) timeArray(oid uint32, v []pgtype.Timestamptz) bool {
	if oid != oidTimestamptzArray || slices.ContainsFunc(v, func(t pgtype.Timestamptz) bool { return t.Valid && t.InfinityModifier != pgtype.Finite }) {
		return false
	}
	p.nullable(oidTimestamptz, len(v), 8, func(i int) bool { return v[i].Valid },
		func(b []byte, i int) []byte { return binary.BigEndian.AppendUint64(b, uint64(micros(v[i].Time))) })
	return true
}

func (p *pgParams) int8Array(oid uint32, v []int64) bool {
	if oid != oidInt8Array {
		return false
	}
	p.int8s(len(v), func(i int) int64 { return v[i] })
	return true
}

func (p *pgParams) int4Array(oid uint32, v []int32) bool {
	if oid != oidInt4Array {
		return false
	}
	p.int4s(len(v), func(i int) int32 { return v[i] })
	return true
}

func (p *pgParams) boolArray(oid uint32, v []bool) bool {
	if oid != oidBoolArray {
		return false
	}
	p.fixed(oidBool, 1, len(v), func(b []byte, i int) []byte {
		if v[i] {
			return append(b, 1)
		}
		return append(b, 0)
	})
	return true
}

func (p *pgParams) textArray(oid uint32, v []string) bool {
	if oid != oidTextArray {
		return false
	}
	p.texts(len(v), func(i int) string { return v[i] })
	return true
}

func (p *pgParams) nullTextArray(oid uint32, v []pgtype.Text) bool {
	if oid != oidTextArray {
		return false
	}
	p.varlen(oidText, len(v), func(i int) ([]byte, bool) { return []byte(v[i].String), v[i].Valid })
	return true
}

func (p *pgParams) byteaArray(oid uint32, v [][]byte) bool {
	if oid != oidByteaArray {
		return false
	}
	p.varlen(oidBytea, len(v), func(i int) ([]byte, bool) { return v[i], v[i] != nil })
	return true
}

// nullable encodes an array of n elements of type oid whose send format is
// size bytes, those that are not valid as NULL.
func (p *pgParams) nullable(oid uint32, n, size int, valid func(i int) bool, put func(b []byte, i int) []byte) {
	nulls := 0
	for i := range n {
		if !valid(i) {
			nulls++
		}
	}
	p.arrayNulls(oid, n, (4+size)*n, nulls > 0)
	b := p.buf
	for i := range n {
		if !valid(i) {
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF) // length -1: NULL
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		b = put(b, i)
	}
	p.buf = b
	p.end()
}

// varlen encodes an array of n elements of type oid sent as their bytes;
// an element that is not valid is NULL.
func (p *pgParams) varlen(oid uint32, n int, elem func(i int) ([]byte, bool)) {
	size, nulls := 0, false
	for i := range n {
		e, ok := elem(i)
		size += 4 + len(e)
		nulls = nulls || !ok
	}
	p.arrayNulls(oid, n, size, nulls)
	b := p.buf
	for i := range n {
		e, ok := elem(i)
		if !ok {
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	p.buf = b
	p.end()
}

// dateDays is the calendar date of t in days since 2000-01-01, as pgx
// sends a pgtype.Date.
func dateDays(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400) - pgEpochDays
}

// micros is t in microseconds since 2000-01-01 UTC.
func micros(t time.Time) int64 {
	return t.Unix()*1000000 + int64(t.Nanosecond())/1000 - pgEpochMicros
}
