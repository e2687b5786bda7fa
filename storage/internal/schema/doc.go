// Package schema is edufund's tables in Go: one bun model per table (the
// domain types carry no tags), its conversions to and from the domain
// types, the types of its columns (dates, months, instants, nullable ids,
// kopecks) and the column map every statement that names a table's
// columns takes them from (Tables). Both dialects and every path, the
// plain adapter and the fast ones, read and write rows through it.
package schema
