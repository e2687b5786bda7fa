package schema

import (
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The column map. A table's columns are declared once, by its row struct:
// a field per column, named by its bun tag, of a Go type that says the
// column's type, and tagged notnull when that type could hold NULL but the
// column may not. bun's metadata of the struct gives the names and the
// order; every statement that names a table's columns takes them from
// here, bun's (through the models) and the fast paths' alike. Adding a
// column is a field here and a migration per dialect; TestSchemaAgreement
// fails until all three agree.

// Table is one table's columns, in the order of its row struct's fields.
type Table struct {
	Name    string
	Columns []Column
	Type    reflect.Type // the row struct
}

// Column is one column of a Table.
type Column struct {
	Name string
	// Type is the column's PostgreSQL type, given by its field's Go type
	// (pgTypes): uuid, text, date, timestamptz, bigint, integer, boolean
	// or bytea.
	Type string
	// Null tells whether the column may be NULL: its field's Go type
	// stores a zero or absent value as NULL and the field is neither a
	// primary key nor tagged notnull.
	Null bool
	// PK tells whether the column is part of the primary key.
	PK bool
	// Index is the field's index in the row struct (reflect.Value.Field).
	Index int
	// GoType is the field's type.
	GoType reflect.Type
}

// pgTypes maps the Go types of the row structs' fields to their columns'
// PostgreSQL types.
var pgTypes = map[reflect.Type]string{
	reflect.TypeFor[uuid.UUID]():     "uuid",
	reflect.TypeFor[NullUUID]():      "uuid",
	reflect.TypeFor[string]():        "text",
	reflect.TypeFor[int64]():         "bigint",
	reflect.TypeFor[int]():           "integer",
	reflect.TypeFor[bool]():          "boolean",
	reflect.TypeFor[Date]():          "date",
	reflect.TypeFor[Time]():          "timestamptz",
	reflect.TypeFor[Month]():         "text",
	reflect.TypeFor[[]byte]():        "bytea",
	reflect.TypeFor[sql.NullInt64](): "bigint",
	reflect.TypeFor[Tags]():          "text",
}

// nullable are the Go types that store a zero or absent value as NULL.
var nullable = map[reflect.Type]bool{
	reflect.TypeFor[NullUUID]():      true,
	reflect.TypeFor[Date]():          true,
	reflect.TypeFor[Time]():          true,
	reflect.TypeFor[Month]():         true,
	reflect.TypeFor[[]byte]():        true,
	reflect.TypeFor[sql.NullInt64](): true,
}

// The tables, by their SQL names.
var (
	Certificates     = tableOf[Certificate]()
	Categories       = tableOf[Category]()
	Accounts         = tableOf[Account]()
	Holds            = tableOf[Hold]()
	Postings         = tableOf[Posting]()
	Counters         = tableOf[Counter]()
	Providers        = tableOf[Provider]()
	Agreements       = tableOf[Agreement]()
	Programs         = tableOf[Program]()
	Modules          = tableOf[Module]()
	StudyGroups      = tableOf[Group]()
	Contracts        = tableOf[Contract]()
	ContractCharges  = tableOf[Charge]()
	InvoiceLines     = tableOf[InvoiceLine]()
	Invoices         = tableOf[Invoice]()
	Idempotency      = tableOf[IdempotencyKey]()
	Queue            = tableOf[QueueEntry]()
	Queues           = tableOf[QueueSeq]()
	Ratings          = tableOf[Rating]()
	Guardianships    = tableOf[Guardianship]()
	Closes           = tableOf[Close]()
	TokenRevocations = tableOf[Revocation]()
	Parameters       = tableOf[Parameter]()
	HoursAccounts    = tableOf[HoursAccount]()
	SearchTerms      = tableOf[SearchTerm]()
	SearchTrigrams   = tableOf[SearchTrigram]()
	Events           = tableOf[Event]()
	Notifications    = tableOf[Notification]()
	Subscriptions    = tableOf[Subscription]()
	Deliveries       = tableOf[Delivery]()
	Decisions        = tableOf[Decision]()
	InvoiceMoves     = tableOf[InvoiceTransition]()
	Completions      = tableOf[Completion]()
	PaperApps        = tableOf[PaperApplication]()
	Waitlists        = tableOf[Waitlist]()
	Authorisations   = tableOf[Authorisation]()
	Registrations    = tableOf[Registration]()
	AdultReviews     = tableOf[AdultReview]()
)

// Tables lists every table of the schema.
var Tables = []*Table{
	Certificates, Categories, Accounts, Holds, Postings, Counters, Providers, Agreements, Programs, Modules,
	StudyGroups, Contracts, ContractCharges, InvoiceLines, Invoices, Idempotency, Queue, Queues, Ratings,
	Guardianships, Closes, TokenRevocations, Parameters, HoursAccounts, SearchTerms, SearchTrigrams,
	Events, Notifications, Subscriptions, Deliveries, Decisions, InvoiceMoves,
	Completions,
	PaperApps,
	Waitlists,
	Authorisations, Registrations,
	AdultReviews,
}

// tableOf reads R's table from bun's metadata; a field of a Go type
// pgTypes does not know is a mistake of this package, found at its first
// use.
func tableOf[R any]() *Table {
	typ := reflect.TypeFor[R]()
	bt := pgdialect.New().Tables().Get(typ)
	t := &Table{Name: bt.Name, Type: typ}
	for _, f := range bt.Fields {
		if len(f.Index) != 1 {
			panic(fmt.Sprintf("schema: %s.%s: a column's field must be the row struct's own", typ, f.GoName))
		}
		ft := f.StructField.Type
		pg, ok := pgTypes[ft]
		if !ok {
			panic(fmt.Sprintf("schema: %s.%s: no column type for Go type %s", typ, f.GoName, ft))
		}
		t.Columns = append(t.Columns, Column{Name: f.Name, Type: pg, Null: nullable[ft] && !f.NotNull, PK: f.IsPK, Index: f.Index[0], GoType: ft})
	}
	return t
}

// Names are the columns' names.
func (t *Table) Names() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// List is the columns' names, comma-separated, each qualified by alias
// unless it is "".
func (t *Table) List(alias string) string {
	var b strings.Builder
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		if alias != "" {
			b.WriteString(alias + ".")
		}
		b.WriteString(c.Name)
	}
	return b.String()
}

// Aliased is List(alias) with each column renamed alias_name, as a bun
// struct embedded with the prefix alias_ reads them.
func (t *Table) Aliased(alias string) string {
	var b strings.Builder
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(alias + "." + c.Name + " AS " + alias + "_" + c.Name)
	}
	return b.String()
}

// Types are the columns' PostgreSQL types.
func (t *Table) Types() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Type
	}
	return out
}

// Keys are the primary key's columns, in the row struct's order.
func (t *Table) Keys() []string {
	var out []string
	for _, c := range t.Columns {
		if c.PK {
			out = append(out, c.Name)
		}
	}
	return out
}

// Set is "c = EXCLUDED.c" for every column but the primary key's and
// those of except, comma-separated: an upsert's update of a row.
func (t *Table) Set(except ...string) string {
	var parts []string
	for _, c := range t.Columns {
		if !c.PK && !slices.Contains(except, c.Name) {
			parts = append(parts, c.Name+" = EXCLUDED."+c.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// Dest is pointers to the fields of *row, in column order, for Scan.
func (t *Table) Dest(row any) []any {
	v := reflect.ValueOf(row).Elem()
	out := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = v.Field(c.Index).Addr().Interface()
	}
	return out
}

// Exprs lists, in column order, the expression exprs gives each column:
// the select list of an INSERT … SELECT whose row source spells its
// values column by column. A column without one is an error, so that a
// column added to the table is not left to its default unseen.
func (t *Table) Exprs(exprs map[string]string) (string, error) {
	parts := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		e, ok := exprs[c.Name]
		if !ok {
			return "", fmt.Errorf("schema: %s.%s: no value for the column", t.Name, c.Name)
		}
		parts[i] = e
	}
	if len(exprs) != len(parts) {
		return "", fmt.Errorf("schema: %s: values for %d columns, the table has %d", t.Name, len(exprs), len(parts))
	}
	return strings.Join(parts, ", "), nil
}

// OuterDest is Dest for the columns of an outer join's optional side: a
// NULL leaves the field its zero value.
func (t *Table) OuterDest(row any) []any {
	v := reflect.ValueOf(row).Elem()
	out := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = orZero{v.Field(c.Index)}
	}
	return out
}

// orZero scans a column into a field, NULL as the field's zero value.
type orZero struct{ f reflect.Value }

func (z orZero) Scan(src any) error {
	if src == nil {
		z.f.SetZero()
		return nil
	}
	if s, ok := z.f.Addr().Interface().(sql.Scanner); ok {
		return s.Scan(src)
	}
	switch v := src.(type) {
	case string:
		if z.f.Kind() == reflect.String {
			z.f.SetString(v)
			return nil
		}
	case []byte:
		if z.f.Kind() == reflect.String {
			z.f.SetString(string(v))
			return nil
		}
	case int64:
		if z.f.CanInt() {
			z.f.SetInt(v)
			return nil
		}
	case bool:
		if z.f.Kind() == reflect.Bool {
			z.f.SetBool(v)
			return nil
		}
	}
	return fmt.Errorf("schema: cannot scan %T into a %s", src, z.f.Type())
}
