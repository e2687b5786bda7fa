// Package export writes the tables a region's accounting and registries
// take in: the lines of the providers' invoices, the registers of
// contracts and certificates, and the completions of adult courses in the
// field set of the registry of education documents.
//
// A table's columns are data, not code: a Template lists Fields (a key of
// the report's records, a Russian header, a kind: text, number, money or
// date) under a version, so that a region picks, orders and renames the
// columns, or follows a new version of a registry's template, by
// replacing a value (ParseTemplate reads one from JSON) rather than the
// program. Each Report says which keys its records hold and of what kind,
// and holds its default template.
//
// Two encodings, as the tools used in Russia read them:
//
//   - CSV: UTF-8 with a byte order mark, ';' between fields, CRLF line
//     ends, money with a decimal comma (1234,56), dates as 02.01.2006 —
//     what Excel opens by a double click in a Russian locale. A text that
//     Excel would run as a formula (=, +, -, @ first) is prefixed with an
//     apostrophe.
//   - XLSX through excelize's StreamWriter: numbers and money as numbers
//     (money with two decimals), dates as dates formatted dd.mm.yyyy, a
//     bold frozen header. The sheet is spooled to a temporary file and
//     the archive written straight to the output, so memory stays bounded
//     however many rows there are.
//
// Rows come from an iterator (iter.Seq2[Record, error]), never a slice:
// the sources here (InvoiceLines, Contracts, Certificates, Completions)
// read the service a page at a time, within what the caller may see. The
// package knows no SQL and no HTTP.
package export
