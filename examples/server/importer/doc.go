// Package importer sets up a region in bulk: its categories, providers
// (with their agreements), catalogue (programs, modules, groups), budgets,
// direction limits and the children's certificates it issued before (with
// their guardians), from JSON, CSV or XLSX files.
//
// An import runs in three steps. Read turns the files into records, each
// with its file and line. Import then checks every record before anything
// is written: the form of each field, the references between rows (a
// program's provider, a module's program, a group's module, a
// certificate's category), and, through the service's reads and dry runs,
// what the rows would change: a budget below what is used, a group's
// capacity below its seats taken, a child not eligible today, a number of
// another child's certificate. Any bad row and nothing is written: the
// error is a *Report naming every bad row by file, line, field and rule.
// Last, the changed rows are written through the service's admin methods
// (SaveCategory, SaveProvider, SaveProgram, SaveModule, SaveGroup,
// SetBudget, SetDirectionLimit, ImportCertificates, LinkGuardian), so that
// every rule and event of those methods holds: the certificates, a
// region's bulk, a page (Options.PageSize) per transaction, every other
// row in a transaction of its own, with progress a page at a time.
//
// Importing is idempotent: rows are keyed, each row that already holds is
// left alone, and importing the same files again writes nothing. The keys:
// a category's code; a provider's, program's, module's and group's id (a
// file gives them: the rows refer to each other by them); a budget's
// municipality and period start; a direction limit's municipality,
// direction and period start; a certificate's number; a guardian link's
// guardian and child. A changed row is saved again (a provider with
// exactly the agreements the file gives it); a certificate registered
// already is left as it is, whatever the file says of it now: after the
// import, certificates change through the service's use cases. Each
// write carries an idempotency key made of its row, so that an import cut
// short and run again does not repeat what it had written.
//
// # Files
//
// A CSV file per section, named for it (categories.csv, providers.csv,
// agreements.csv, programs.csv, modules.csv, groups.csv, budgets.csv,
// direction_limits.csv, certificates.csv, guardians.csv; any may be
// absent), its first line the column names below, fields separated by
// ";" (as Excel writes CSV in Russia) or ",", UTF-8 with or without a
// byte order mark. Or a workbook (region.xlsx) of sheets named for the
// sections, each laid out as its CSV file (its cells read as stored: a
// date cell of a date column as its date, a number as it is). Or one JSON
// object whose keys are the section names and whose values are arrays of
// objects keyed by the same column names:
//
//	{"categories": [{"code": "city", "nominal": "30000.00", "max_count": 1000}],
//	 "providers": [{"id": "0190…", "name": "Робоцентр", "inn": "5401000001"}]}
//
// Money is roubles with kopecks ("30000.00"; "30 000,00" is read too),
// dates YYYY-MM-DD (or DD.MM.YYYY), yes/no columns true/false (1/0,
// да/нет), a program's tags separated by "|" (or a JSON array). Columns
// marked * are required; every other column may be left out or empty.
//
//	categories        code*, nominal, max_count, max_sum, hours_base, hours_extra
//	providers         id*, name*, inn*, municipality, enrolment_limit, address, phone, email, site,
//	                  kpp, bank_name, bic, account, correspondent_account
//	agreements        provider_id*, municipality*, period_start* (period_end: checked if given)
//	programs          id*, provider_id*, name*, scheme*, direction, registry, min_age, max_age,
//	                  enrolment_open, municipality, enrolment_limit, competency_area, academic_hours,
//	                  annotation, description, goals, tags
//	modules           id*, program_id*, name*, price*, normative_price*, hours*, min_children,
//	                  max_children, weekly_hours
//	groups            id*, module_id*, name*, start*, end*, capacity*, schedule, address
//	budgets           municipality*, period_start*, limit*
//	direction_limits  municipality*, direction*, period_start*, limit* (0: no limit)
//	certificates      number*, person_id*, full_name*, birth_date*, holder_municipality*, category*,
//	                  issued_on*, sex, municipality (funding; the holder's by default), guardian_id,
//	                  status (issued, active or suspended), funded
//	guardians         guardian_id*, child_id*
//
// A period_start is the first day of one of the region's funding periods.
// A provider's agreements are those of the agreements rows naming it, and
// an agreements row must name a provider of the providers rows.
package importer
