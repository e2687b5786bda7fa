package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/importer"
)

// importFlags are the flags of the import command.
type importFlags struct {
	check bool
	page  int
}

// importCmd sets up a region in bulk (examples/server/importer): every row is
// checked before anything is written, and the rows that already hold are
// left alone, so that the same files imported again write nothing.
var importCmd = &command{
	name: "import", synopsis: "[-check] [-page N] DIR|FILE.json|FILE.xlsx|SECTION.csv [flags]",
	summary: "set up a region in bulk: categories, providers, catalogue, budgets, limits, certificates and guardians from CSV, XLSX or JSON",
	flags: func(fs *flag.FlagSet, o *options) {
		fs.BoolVar(&o.imp.check, "check", false, "check every row and print what would change, writing nothing")
		fs.IntVar(&o.imp.page, "page", 500, "rows written between two progress lines")
	},
	args: true, run: runImport,
	inUse: "import through the server's API instead (POST /v1/admin/import with a regional token), or stop the server first",
}

func runImport(ctx context.Context, s *session) error {
	if len(s.args) != 1 {
		return errors.New("import: name one directory of CSV files (providers.csv …), region.json or region.xlsx, or one such file")
	}
	if s.o.imp.page < 1 {
		return fmt.Errorf("-page: %d: must be 1 or more", s.o.imp.page)
	}
	path := s.args[0]
	src, err := readImport(path)
	if err != nil {
		var rep *importer.Report
		if errors.As(err, &rep) {
			printReport(s, rep)
		}
		return err
	}
	start := time.Now()
	fmt.Fprintf(s.stdout, "importing %s: %d rows\n", path, src.Len())
	res, err := importer.Import(ctx, s.svc, src, importer.Options{
		By: enrollment.AsSystem("import"), CheckOnly: s.o.imp.check, PageSize: s.o.imp.page,
		Progress: func(p importer.Progress) {
			if p.Stage == "check" {
				fmt.Fprintf(s.stdout, "  checked %-16s %6d of %d rows\n", p.Section, p.Done, p.Total)
			} else {
				fmt.Fprintf(s.stdout, "  wrote   %-16s %6d of %d rows\n", p.Section, p.Done, p.Total)
			}
		},
	})
	var rep *importer.Report
	if errors.As(err, &rep) {
		printReport(s, rep)
		return fmt.Errorf("%d bad rows: nothing imported", len(rep.Errors))
	}
	for _, sec := range res.Sections {
		if sec.Created+sec.Updated+sec.Unchanged > 0 {
			fmt.Fprintf(s.stdout, "  %-16s %5d new  %5d changed  %5d unchanged\n", sec.Section, sec.Created, sec.Updated, sec.Unchanged)
		}
	}
	if err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case s.o.imp.check:
		fmt.Fprintf(s.stdout, "checked in %s, nothing written: every row is good; importing would write %d rows\n", took, res.Changed())
	case res.Written == 0:
		fmt.Fprintf(s.stdout, "nothing to change: every row holds already (%s)\n", took)
	default:
		fmt.Fprintf(s.stdout, "imported in %s: %d rows written\n", took, res.Written)
	}
	return nil
}

// readImport reads a directory of a region's files, a region's JSON file
// or workbook, or one section's CSV file named for its section.
func readImport(path string) (*importer.Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return importer.ReadDir(os.DirFS(path), ".")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src := importer.NewSource()
	name := filepath.Base(path)
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".json":
		err = src.ReadJSON(name, f)
	case ".csv":
		err = src.ReadCSV(strings.TrimSuffix(name, filepath.Ext(name)), name, f)
	case ".xlsx":
		err = src.ReadXLSX(name, f)
	default:
		err = fmt.Errorf("%s: not a directory, a .json, .xlsx or .csv file", path)
	}
	return src, err
}

func printReport(s *session, rep *importer.Report) {
	for _, e := range rep.Errors {
		fmt.Fprintf(s.stdout, "  %s\n", e.Error())
	}
}
