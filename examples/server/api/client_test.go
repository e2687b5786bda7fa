package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"

	// The generated client's runtime, imported here so that go.mod pins
	// its version and go.sum its hashes: the client below builds with
	// them, offline.
	_ "github.com/oapi-codegen/runtime"
	_ "github.com/oapi-codegen/runtime/types"

	"github.com/edufund/edufund/storage/storagetest"
)

// TestGeneratedClient does what a portal developer does with the document
// the server serves: it generates a Go client with oapi-codegen, builds it
// with this repository's go.mod, and finds a method of the client named after each operation
// (Submit, not PostV1Applications). A document the generator cannot use,
// or whose client does not compile, fails it.
func TestGeneratedClient(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteMemory)
	served := e.must(http.StatusOK, "GET", "/v1/openapi.json", "", "", nil).body
	doc, err := openapi3.NewLoader().LoadFromData(served)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	src, err := codegen.Generate(doc, codegen.Configuration{
		PackageName: "edufundclient",
		Generate:    codegen.GenerateOptions{Client: true, Models: true},
	})
	if err != nil {
		t.Fatalf("oapi-codegen: %v", err)
	}

	// The client is built as a package of this module, in a directory
	// the ./... patterns skip (its name starts with "_"): it takes this
	// repository's go.mod and go.sum as they are, so nothing is resolved
	// or downloaded. A throwaway module would have to rebuild the module
	// graph, which needs go.mod files a fresh module cache does not hold.
	dir, err := os.MkdirTemp(".", "_client")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "client.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "./"+filepath.Base(dir))
	build.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the generated client does not build: %v\n%s", err, out)
	}

	methods := map[string]bool{}
	f, err := parser.ParseFile(token.NewFileSet(), "client.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "Client" {
			methods[fn.Name.Name] = true
		}
	}
	if len(ops) < 40 {
		t.Fatalf("only %d operations in the served document", len(ops))
	}
	for _, op := range ops {
		if op == "" || !methods[op] {
			t.Errorf("operation %q: the client has no method of that name (it has %d methods)", op, len(methods))
		}
	}
	for m := range methods {
		if strings.HasPrefix(m, "GetV1") || strings.HasPrefix(m, "PostV1") {
			t.Errorf("the client names a method after a path: %s", m)
		}
	}
}
