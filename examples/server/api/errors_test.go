package api

import (
	"errors"
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// module is the import path of the repository's root, three folders up.
const (
	module = "github.com/edufund/edufund"
	root   = "../../.."
)

// domainPackages are the folders whose errors the error table covers,
// sub-packages included.
var domainPackages = []string{"funding", "certificate", "catalog", "enrollment"}

// source is what the tests read from Go files: the names are qualified by
// import path, such as "github.com/edufund/edufund/enrollment.ErrNotFound".
type source struct {
	fset      *token.FileSet
	sentinels []string          // exported package-level vars set by errors.New
	codes     map[string]string // exported Code… constants → the constant they alias ("" if none)
	refusals  [][2]string       // the sentinel and code of each funding.Refuse whose arguments are both constants
	literals  []string          // the positions of codes given as literals
}

// parseGoFiles parses the non-test Go files of dir and returns them with
// the import path of the package.
func parseGoFiles(t *testing.T, fset *token.FileSet, dir string) (string, []*ast.File) {
	t.Helper()
	top, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, goparser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return path.Join(module, filepath.ToSlash(rel)), files
}

// qualifier names the identifiers of one file by import path.
type qualifier struct {
	pkg     string
	imports map[string]string // local name → import path
}

func newQualifier(pkg string, f *ast.File) qualifier {
	q := qualifier{pkg: pkg, imports: map[string]string{}}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		q.imports[name] = p
	}
	return q
}

// name returns the qualified name of a package-level identifier or of an
// imported one (pkg.Name); "" for anything else.
func (q qualifier) name(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return q.pkg + "." + e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && q.imports[x.Name] != "" {
			return q.imports[x.Name] + "." + e.Sel.Name
		}
	}
	return ""
}

// isCall reports whether call calls pkg.fn, or fn from inside pkg.
func (q qualifier) isCall(call *ast.CallExpr, pkg, fn string) bool {
	return q.name(call.Fun) == pkg+"."+fn
}

// readDomain reads the sentinels, the codes and the refusals of the
// domain packages.
func readDomain(t *testing.T) source {
	t.Helper()
	src := source{fset: token.NewFileSet(), codes: map[string]string{}}
	for _, dir := range domainPackages {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if n := d.Name(); n == "testdata" || n == "internal" {
				return filepath.SkipDir
			}
			pkg, files := parseGoFiles(t, src.fset, p)
			for _, f := range files {
				src.read(newQualifier(pkg, f), f)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return src
}

func (src *source) read(q qualifier, f *ast.File) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, n := range vs.Names {
				if !n.IsExported() || i >= len(vs.Values) {
					continue
				}
				switch v := vs.Values[i]; {
				case gd.Tok == token.VAR && strings.HasPrefix(n.Name, "Err"):
					if call, ok := v.(*ast.CallExpr); ok && q.isCall(call, "errors", "New") {
						src.sentinels = append(src.sentinels, q.pkg+"."+n.Name)
					}
				case gd.Tok == token.CONST && strings.HasPrefix(n.Name, "Code"):
					src.codes[q.pkg+"."+n.Name] = q.name(v)
				}
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !q.isCall(call, module+"/funding", "Refuse") || len(call.Args) < 2 {
			return true
		}
		if lit, ok := call.Args[1].(*ast.BasicLit); ok {
			src.literals = append(src.literals, fmt.Sprintf("%s: %s", src.fset.Position(lit.Pos()), lit.Value))
		}
		src.refusals = append(src.refusals, [2]string{q.name(call.Args[0]), q.name(call.Args[1])})
		return true
	})
}

// base resolves a code constant through the constants it aliases.
func (src *source) base(code string) string {
	for src.codes[code] != "" {
		code = src.codes[code]
	}
	return code
}

// tableRow is a row of errorTable as written: the qualified names of its
// sentinel and of its codes.
type tableRow struct {
	is    string
	codes []string
}

// readErrorTable reads errorTable from this package's source.
func readErrorTable(t *testing.T) []tableRow {
	t.Helper()
	pkg, files := parseGoFiles(t, token.NewFileSet(), ".")
	var rows []tableRow
	for _, f := range files {
		q := newQualifier(pkg, f)
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "errorTable" {
				return true
			}
			for _, e := range vs.Values[0].(*ast.CompositeLit).Elts {
				var row tableRow
				for _, kv := range e.(*ast.CompositeLit).Elts {
					kv := kv.(*ast.KeyValueExpr)
					switch kv.Key.(*ast.Ident).Name {
					case "is":
						row.is = q.name(kv.Value)
					case "codes":
						for _, c := range kv.Value.(*ast.CompositeLit).Elts {
							row.codes = append(row.codes, q.name(c))
						}
					}
				}
				rows = append(rows, row)
			}
			return false
		})
	}
	if len(rows) == 0 {
		t.Fatal("no errorTable in the package's source")
	}
	return rows
}

// TestErrorTableCoversTheDomain: every exported sentinel (var Err… =
// errors.New) of funding, certificate, catalog and enrollment has a row of
// errorTable, every exported Code… constant is a row's code (or aliases
// one), and every code a refusal passes with a sentinel is among that
// sentinel's row's codes, so that each code the API answers has a status.
// A sentinel or a code added on the domain's side alone fails it.
func TestErrorTableCoversTheDomain(t *testing.T) {
	src := readDomain(t)
	rows := readErrorTable(t)
	if len(src.sentinels) < 50 || len(src.codes) < 40 {
		t.Fatalf("read %d sentinels and %d codes: the parse missed the domain", len(src.sentinels), len(src.codes))
	}
	rowOf := map[string]tableRow{}
	listed := map[string]bool{}
	for _, r := range rows {
		rowOf[r.is] = r
		for _, c := range r.codes {
			listed[src.base(c)] = true
		}
	}
	for _, s := range src.sentinels {
		if _, ok := rowOf[s]; !ok {
			t.Errorf("sentinel %s has no row in errorTable", s)
		}
	}
	for c := range src.codes {
		if !listed[src.base(c)] {
			t.Errorf("code %s is no row's code in errorTable", c)
		}
	}
	for _, rf := range src.refusals {
		row, ok := rowOf[rf[0]]
		if _, isCode := src.codes[rf[1]]; !ok || !isCode {
			continue // a variable, or a sentinel reported above
		}
		if !slices.ContainsFunc(row.codes, func(c string) bool { return src.base(c) == src.base(rf[1]) }) {
			t.Errorf("%s is refused with %s, which its row in errorTable does not list", rf[0], rf[1])
		}
	}
}

// TestRefusalCodesAreConstants: no refusal of the domain (funding.Refuse)
// and no problem of the API (newProblem) passes its code as a literal, so
// that every code is a constant the error table and clients can name.
func TestRefusalCodesAreConstants(t *testing.T) {
	src := readDomain(t)
	fset := token.NewFileSet()
	pkg, files := parseGoFiles(t, fset, ".")
	for _, f := range files {
		q := newQualifier(pkg, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && q.isCall(call, pkg, "newProblem") {
				if lit, ok := call.Args[1].(*ast.BasicLit); ok {
					src.literals = append(src.literals, fmt.Sprintf("%s: %s", fset.Position(lit.Pos()), lit.Value))
				}
			}
			return true
		})
	}
	for _, l := range src.literals {
		t.Errorf("a literal code: %s", l)
	}
	if len(src.refusals) < 90 {
		t.Fatalf("read %d refusals: the parse missed the domain", len(src.refusals))
	}
}

// TestErrorTableRows: each row of errorTable decides the errors it names
// (no row above it takes them), with its status and its first code for an
// error that carries no code and the refusal's own code otherwise; and no
// code has two statuses.
func TestErrorTableRows(t *testing.T) {
	status := map[string]int{}
	for _, row := range errorTable {
		for _, c := range row.codes {
			if s, ok := status[c]; ok && s != row.status {
				t.Errorf("code %s has statuses %d and %d", c, s, row.status)
			}
			status[c] = row.status
		}
		if row.is == nil {
			continue
		}
		wrapped := fmt.Errorf("somewhere: %w", row.is)
		if got := rowOf(wrapped); got.is != row.is {
			t.Errorf("%v: decided by the row of %v above it", row.is, got.is)
		}
		if p := classify(wrapped); p.Status != row.status || p.Code != row.codes[0] {
			t.Errorf("%v: %d %s, want %d %s", row.is, p.Status, p.Code, row.status, row.codes[0])
		}
		for _, c := range row.codes {
			if p := classify(funding.Refuse(row.is, c, "detail")); p.Status != row.status || p.Code != c {
				t.Errorf("%v refused with %s: %d %s, want %d %s", row.is, c, p.Status, p.Code, row.status, c)
			}
		}
	}
}

// TestClassify: the rows that complete a problem from its error.
func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   Problem
		logged bool
	}{
		{"body too large", &http.MaxBytesError{Limit: 1 << 20}, Problem{Status: 413, Code: CodeBodyTooLarge, Detail: "the body is limited to 1048576 bytes"}, false},
		{"validation", fmt.Errorf("issue: %w", &funding.ValidationError{Field: "holder.birth_date", Rule: "must be in the past", Value: "2999-01-01"}),
			Problem{Status: 400, Code: CodeInvalid, Field: "holder.birth_date", Detail: `holder.birth_date: must be in the past (got "2999-01-01")`}, false},
		{"ineligible", &enrollment.IneligibleError{Reasons: []certificate.Reason{{Rule: "age", Message: "too old"}}},
			Problem{Status: 422, Code: CodeIneligible, Detail: "not eligible: too old", Reasons: []Reason{{Rule: "age", Message: "too old"}}}, false},
		{"a rule without a row", funding.Refuse(errors.New("new rule"), "", "detail"), Problem{Status: 422, Code: CodeRefused, Detail: "new rule: detail"}, false},
		{"a rule's own code", funding.Refuse(errors.New("new rule"), "new_rule", "detail"), Problem{Status: 422, Code: "new_rule", Detail: "new rule: detail"}, false},
		{"contention", fmt.Errorf("tx: %w", enrollment.ErrContention), Problem{Status: 503, Code: CodeUnavailable,
			Detail: "the service is busy or its database is out of reach; try again"}, true},
		{"unknown", errors.New("a driver's error"), Problem{Status: 500, Code: CodeInternal, Detail: internalDetail}, true},
		{"counter past its cap", enrollment.ErrCounterFull, Problem{Status: 500, Code: CodeInternal, Detail: internalDetail}, true},
	}
	for _, tt := range tests {
		p := classify(tt.err)
		if p.Status != tt.want.Status || p.Code != tt.want.Code || p.Detail != tt.want.Detail || p.Field != tt.want.Field ||
			!slices.Equal(p.Reasons, tt.want.Reasons) || p.Type != "urn:edufund:problem:"+tt.want.Code || p.Title != http.StatusText(tt.want.Status) {
			t.Errorf("%s: %+v, want %+v", tt.name, *p, tt.want)
		}
		if (p.err != nil) != tt.logged {
			t.Errorf("%s: the cause is logged: %v, want %v", tt.name, p.err != nil, tt.logged)
		}
		if retry := p.Status == http.StatusServiceUnavailable; (p.retryAfter != "") != retry {
			t.Errorf("%s: Retry-After %q", tt.name, p.retryAfter)
		}
	}
}
