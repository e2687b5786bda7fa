package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importRegion is a region file whose municipalities are those of the
// importer's test files.
const importRegion = `{"name": "Тестовая область", "time_zone": "Asia/Novosibirsk", "children": {"municipalities": ["mun-a", "mun-b"]}}`

// TestImportCommand: the import command checks, imports with progress,
// imports the same files again without writing, and refuses a file with
// bad rows naming each of them, writing nothing.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	regionFile := filepath.Join(dir, "region.json")
	if err := os.WriteFile(regionFile, []byte(importRegion), 0o600); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "edufund.db")
	files := filepath.Join("importer", "testdata", "region")
	importing := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"import", "-db", db, "-region", regionFile}, args...), &out, &out)
		return out.String(), err
	}

	out, err := importing("-check", files)
	if err != nil || !strings.Contains(out, "nothing written") || !strings.Contains(out, "would write 19 rows") {
		t.Fatalf("import -check: %v\n%s", err, out)
	}
	empty := state(t, db)

	out, err = importing("-page", "2", files)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, want := range []string{"wrote   certificates          2 of 4 rows", "wrote   certificates          4 of 4 rows",
		"certificates         4 new", "19 rows written"} {
		if !strings.Contains(out, want) {
			t.Errorf("import says\n%s\nwant %q in it", out, want)
		}
	}
	imported := state(t, db)
	if imported == empty {
		t.Fatal("the import wrote nothing")
	}

	out, err = importing(files)
	if err != nil || !strings.Contains(out, "nothing to change") {
		t.Fatalf("import again: %v\n%s", err, out)
	}
	if state(t, db) != imported {
		t.Error("importing the same files again changed the database")
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{
  "budgets": [
    {"municipality": "mun-a", "period_start": "2026-01-01", "limit": "7000000.00"},
    {"municipality": "mun-x", "period_start": "2026-01-01", "limit": "1.00"}
  ],
  "guardians": [{"guardian_id": "parent-9"}]
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = importing(bad)
	if err == nil || !strings.Contains(err.Error(), "2 bad rows") {
		t.Fatalf("import of bad rows: %v\n%s", err, out)
	}
	for _, want := range []string{"bad.json:4: municipality: does not take part", "bad.json:6: child_id: is required"} {
		if !strings.Contains(out, want) {
			t.Errorf("import of bad rows says\n%s\nwant %q in it", out, want)
		}
	}
	if state(t, db) != imported {
		t.Error("a file with bad rows changed the database (its good row included)")
	}

	if _, err := importing(); err == nil {
		t.Error("import of nothing: no error")
	}
}
