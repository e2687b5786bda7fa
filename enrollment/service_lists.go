package enrollment

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The cabinets' lists: a guardian's certificates, a municipality's, a
// provider's applications and contracts. Each is read a page at a time,
// newest first, within what the caller may see: the service narrows the
// filter to the caller's reach before the store reads, so that no edge
// can list what it could not open one by one.

// Bounds of a list's page.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// CertificateFilter narrows Service.Certificates; a zero field is any.
type CertificateFilter struct {
	Scheme       certificate.Scheme
	Municipality string
	Status       certificate.Status
	// Holder lists the certificates a person acts for: their own adult
	// certificate and their children's (as the guardian recorded on it or
	// linked to the child by a municipal authority). The service sets it
	// to the caller for a holder.
	Holder string
	// After is the last id of the previous page (Page.Next); uuid.Nil
	// starts from the newest.
	After uuid.UUID
	// Limit is the page's size, 1 to MaxListLimit; 0 is DefaultListLimit.
	Limit int
}

// CertificatePage is a page of certificates, newest first.
type CertificatePage struct {
	Certificates []certificate.Certificate
	// Next is the After of the next page; uuid.Nil on the last.
	Next uuid.UUID
}

// ContractFilter narrows Service.Contracts; a zero field is any.
type ContractFilter struct {
	Scheme       certificate.Scheme
	Provider     uuid.UUID
	Municipality string
	Certificate  uuid.UUID
	Statuses     []Status
	After        uuid.UUID
	Limit        int
}

// ContractPage is a page of contracts, newest first.
type ContractPage struct {
	Contracts []Contract
	Next      uuid.UUID
}

// Certificates lists the certificates the caller may read: a holder those
// they act for (see CertificateFilter.Holder), a municipal authority the
// children's certificates it funds, the regional operator the children's
// scheme's, the federal operator the adults', the auditor every one. A provider lists none
// (ErrForbidden): it finds a certificate by its number, with the holder.
// A filter outside the caller's reach gives an empty page.
func (s *Service) Certificates(ctx context.Context, by Caller, f CertificateFilter) (CertificatePage, error) {
	if err := roleMay(by, "list certificates", RoleHolder, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor); err != nil {
		return CertificatePage{}, err
	}
	var err error
	if f.Limit, err = listLimit(f.Limit); err != nil {
		return CertificatePage{}, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return CertificatePage{}, &funding.ValidationError{Field: "status", Rule: "is not a certificate status", Value: string(f.Status)}
	}
	if f.Scheme != "" && !knownScheme(f.Scheme) {
		return CertificatePage{}, &funding.ValidationError{Field: "scheme", Rule: "is not a scheme", Value: string(f.Scheme)}
	}
	if f.Holder != "" {
		if f.Holder, err = personID("holder", f.Holder); err != nil {
			return CertificatePage{}, err
		}
	}
	// The caller's reach, as holds() draws it one certificate at a time.
	var r reach
	if by.Role == RoleHolder {
		r.to(&f.Holder, by.ID)
	}
	r.tenant(by, &f.Municipality, &f.Scheme)
	if r.out {
		return CertificatePage{}, nil
	}
	var page CertificatePage
	page.Certificates, page.Next, err = fetch(f.Limit, func(limit int) ([]certificate.Certificate, error) {
		f.Limit = limit
		return s.store.Certificates(ctx, f)
	}, func(c certificate.Certificate) uuid.UUID { return c.ID })
	return page, err
}

// reach narrows a list's filter to what its caller may read: each field
// the caller is bound to takes the caller's value, and a filter that named
// another value reaches nothing (out): the list answers an empty page,
// never another tenant's rows.
type reach struct{ out bool }

// to binds field to v.
func (r *reach) to(field *string, v string) {
	if *field != "" && *field != v {
		r.out = true
	}
	*field = v
}

// toID binds an id field to v.
func (r *reach) toID(field *uuid.UUID, v uuid.UUID) {
	if *field != uuid.Nil && *field != v {
		r.out = true
	}
	*field = v
}

// tenant binds a municipality and a scheme to by's: a municipality its
// own children's certificates, the regional operator the children's
// scheme, the federal operator the adults'.
func (r *reach) tenant(by Caller, municipality *string, scheme *certificate.Scheme) {
	switch by.Role {
	case RoleMunicipality:
		r.to(municipality, by.ID)
		r.to((*string)(scheme), string(certificate.Supplementary))
	case RoleRegional:
		r.to((*string)(scheme), string(certificate.Supplementary))
	case RoleFederal:
		r.to((*string)(scheme), string(certificate.DigitalSkills))
	}
}

// fetch reads a page of up to want items through read, asking for one
// more to learn whether another page follows: next is the key of the
// page's last item then, and zero on the last page.
func fetch[T any, K comparable](want int, read func(limit int) ([]T, error), key func(T) K) (items []T, next K, err error) {
	items, err = read(want + 1)
	if err != nil {
		return nil, next, err
	}
	if len(items) > want {
		items = items[:want]
		next = key(items[want-1])
	}
	return items, next, nil
}

// Contracts lists the contracts (applications included) the caller may
// read: a provider its own, a municipal authority the children's scheme's
// of its certificates, the regional operator the children's scheme's, the
// federal operator the adults', the auditor every one, and a holder those
// of one certificate they act for (Certificate is then required).
func (s *Service) Contracts(ctx context.Context, by Caller, f ContractFilter) (ContractPage, error) {
	if err := by.Validate(); err != nil {
		return ContractPage{}, err
	}
	if by.Role == RoleAuthorised { // takes applications for certificates, is party to no contract
		return ContractPage{}, forbidden("role %s may not list contracts", by.Role)
	}
	var err error
	if f.Limit, err = listLimit(f.Limit); err != nil {
		return ContractPage{}, err
	}
	for _, st := range f.Statuses {
		if !st.Known() {
			return ContractPage{}, &funding.ValidationError{Field: "status", Rule: "is not a contract status", Value: string(st)}
		}
	}
	if f.Scheme != "" && !knownScheme(f.Scheme) {
		return ContractPage{}, &funding.ValidationError{Field: "scheme", Rule: "is not a scheme", Value: string(f.Scheme)}
	}
	var r reach
	r.tenant(by, &f.Municipality, &f.Scheme)
	switch by.Role {
	case RoleProvider:
		r.toID(&f.Provider, by.providerID())
	case RoleHolder:
		if f.Certificate == uuid.Nil {
			return ContractPage{}, &funding.ValidationError{Field: "certificate_id", Rule: "is required: a holder lists the contracts of one certificate"}
		}
		err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			c, err := tx.Certificate(ctx, f.Certificate)
			if err != nil {
				return notFound(err, "certificate_id", f.Certificate)
			}
			return s.mayRead(ctx, tx, by, c)
		})
		if err != nil {
			return ContractPage{}, err
		}
	}
	if r.out {
		return ContractPage{}, nil
	}
	var page ContractPage
	page.Contracts, page.Next, err = fetch(f.Limit, func(limit int) ([]Contract, error) {
		f.Limit = limit
		return s.store.Contracts(ctx, f)
	}, func(c Contract) uuid.UUID { return c.ID })
	return page, err
}

func knownScheme(s certificate.Scheme) bool {
	return s == certificate.Supplementary || s == certificate.DigitalSkills
}

func listLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultListLimit, nil
	case n < 0 || n > MaxListLimit:
		return 0, &funding.ValidationError{Field: "limit", Rule: "must be between 1 and " + strconv.Itoa(MaxListLimit), Value: strconv.Itoa(n)}
	}
	return n, nil
}

// Limits are what caps a municipality's children's certificates in a
// period: its budget, its live contracts by direction, and the region's
// categories (funded slots and their queues), each with its use.
type Limits struct {
	Municipality string
	Period       funding.Period
	// Budget is in kopecks; Limit is Unlimited when none is set.
	Budget     Counter
	Directions []DirectionUse
	Categories []CategoryUse
}

// DirectionUse is a municipality's live contracts in a direction against
// its limit (Unlimited when none is set).
type DirectionUse struct {
	Direction   catalog.Direction
	Used, Limit int64
}

// CategoryUse is a category with the certificates it funds (its counter)
// and how many wait in its queue for a funded slot.
type CategoryUse struct {
	Category certificate.Category
	Funded   int64
	Queued   int
}

// Limits reads municipality's limits for the period holding on: for the
// municipal authority itself, the regional operator or the system.
func (s *Service) Limits(ctx context.Context, by Caller, municipality string, on funding.Date) (Limits, error) {
	if err := roleMay(by, "read a municipality's limits", RoleMunicipality, RoleRegional); err != nil {
		return Limits{}, err
	}
	if municipality == "" {
		return Limits{}, &funding.ValidationError{Field: "municipality", Rule: "must not be empty"}
	}
	if by.Role == RoleMunicipality && municipality != by.ID {
		return Limits{}, forbidden("a municipal authority reads only its own limits")
	}
	if on.IsZero() {
		on = s.Today()
	}
	out := Limits{Municipality: municipality, Period: s.cfg.PeriodOf(on)}
	counter := func(ctx context.Context, tx Tx, key string) (Counter, error) {
		c, err := tx.Counter(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return Counter{Key: key, Limit: Unlimited}, nil
		}
		return c, err
	}
	var codes []string
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		out.Directions, out.Categories, codes = nil, nil, nil
		var err error
		if out.Budget, err = counter(ctx, tx, budgetKey(municipality, out.Period)); err != nil {
			return err
		}
		for _, d := range catalog.Directions {
			c, err := counter(ctx, tx, directionKey(municipality, string(d), out.Period))
			if err != nil {
				return err
			}
			out.Directions = append(out.Directions, DirectionUse{Direction: d, Used: c.Used, Limit: c.Limit})
		}
		cats, err := tx.Categories(ctx)
		if err != nil {
			return err
		}
		for _, cat := range cats {
			c, err := counter(ctx, tx, categoryCountKey(cat.Code))
			if err != nil {
				return err
			}
			out.Categories = append(out.Categories, CategoryUse{Category: cat, Funded: c.Used})
			codes = append(codes, cat.Code)
		}
		return nil
	})
	if err != nil {
		return Limits{}, err
	}
	for i, code := range codes {
		if out.Categories[i].Queued, err = s.store.QueueLength(ctx, categoryQueue(code)); err != nil {
			return Limits{}, err
		}
	}
	return out, nil
}
