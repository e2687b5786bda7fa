package storage_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// region is a storagetest.Region under the names storage's batch, close
// and fault tests use; once they take the Region itself, it can go. Its
// fields copy the Region's; a test may set module to another module, and
// newGroup then adds the group there.
type region struct {
	*storagetest.Region
	db       *storage.DB
	svc      *enrollment.Service
	clock    *funding.FixedClock
	provider catalog.Provider
	program  catalog.Program
	module   catalog.Module
	group    catalog.Group
}

// regionOpts are storagetest.RegionOptions.
type regionOpts struct {
	capacity int
	budget   funding.Money
}

const mun = storagetest.Municipality

var autumn = storagetest.Autumn

func newRegion(t testing.TB, db *storage.DB, o regionOpts) *region {
	t.Helper()
	r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: o.capacity, Budget: o.budget})
	return &region{Region: r, db: db, svc: r.Service, clock: r.Clock,
		provider: r.Provider, program: r.Program, module: r.Module, group: r.Group}
}

func (r *region) key() string                                           { return r.Key() }
func (r *region) at(y int, m time.Month, d int)                         { r.At(y, m, d) }
func (r *region) child(i int) certificate.Certificate                   { return r.Child(i) }
func (r *region) newGroup(capacity int) catalog.Group                   { return r.AddGroup(r.module, capacity) }
func (r *region) money(id uuid.UUID) enrollment.CabinetMoney            { return r.Money(id) }
func (r *region) contracts(id uuid.UUID) ([]enrollment.Contract, error) { return r.Contracts(id) }

func m(s string) funding.Money { return funding.MustMoney(s) }

var (
	invoiceAmounts  = storagetest.InvoiceAmounts
	isRefusal       = storagetest.IsRefusal
	checkInvariants = storagetest.CheckInvariants
)
