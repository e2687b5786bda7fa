package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/api"
)

// TestRegionFlag: -region loads a region file (naming the wrong field when
// it is invalid), EDUFUND_REGION does the same, and the demo data is refused
// outside the built-in demo region.
func TestRegionFlag(t *testing.T) {
	ctx := context.Background()
	var out, errs bytes.Buffer
	if err := run(ctx, []string{"migrate", "-db", "sqlite::memory:", "-region", "region.example.json"}, &out, &errs); err != nil {
		t.Fatalf("migrate with the example region: %v (%s)", err, errs.String())
	}
	bad := filepath.Join(t.TempDir(), "region.json")
	if err := os.WriteFile(bad, []byte(`{"name":"x","children":{"municipalities":["a",""]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(ctx, []string{"migrate", "-db", "sqlite::memory:", "-region", bad}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "children.municipalities[1]") {
		t.Fatalf("invalid region file: %v", err)
	}
	t.Setenv("EDUFUND_REGION", bad)
	if err := run(ctx, []string{"migrate", "-db", "sqlite::memory:"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "children.municipalities[1]") {
		t.Fatalf("EDUFUND_REGION: %v", err)
	}
	if err := run(ctx, []string{"demo", "-db", "sqlite::memory:", "-region", "region.example.json"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "demo region") {
		t.Fatalf("demo data in a real region: %v", err)
	}
}

// TestTokenCommand prints a token the server's Auth accepts.
func TestTokenCommand(t *testing.T) {
	var out, errs bytes.Buffer
	key := "a-signing-key-of-at-least-32-bytes-long"
	if err := run(context.Background(), []string{"token", "-jwt-key", key, "-role", "municipality", "-subject", "officer", "-tenant", "novosibirsk"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	auth, err := api.NewAuth([]byte(key), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.Verify(strings.TrimSpace(out.String()))
	if err != nil || p.Role != api.RoleMunicipality || p.Tenant != "novosibirsk" {
		t.Fatalf("token: %+v, %v", p, err)
	}
	if err := run(context.Background(), []string{"token", "-jwt-key", key, "-role", "provider", "-subject", "x", "-tenant", "not-a-uuid"}, &out, &errs); err == nil {
		t.Fatal("a provider token without a provider id was issued")
	}
}
