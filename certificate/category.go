package certificate

import (
	"fmt"
	"strconv"

	"github.com/edufund/edufund/funding"
)

// Category is a group of children's certificates (e.g. "город", rural,
// disabled) that sets the nominal per period and caps how many funded
// certificates it may hold.
//
// MaxCount caps the number of funded certificates in the category and
// MaxSum caps the sum of their nominals for the period; a zero cap means
// unlimited (a category that may hold no funded certificate at all is a
// category nobody is switched into, not a cap of 0).
//
// A category's nominal is money, or weekly hours of load (rules.md, "Hours
// model"): HoursBase hours a week usable on any program, plus HoursExtra
// usable only on programs of the significant registry. An hours category
// has no money nominal and no cap on the sum of nominals; its contracts
// are billed hours × weeks × the region's cost of a child-hour.
type Category struct {
	Code     string
	Nominal  funding.Money // per period
	MaxCount int           // 0 = unlimited
	MaxSum   funding.Money // 0 = unlimited
	// HoursBase and HoursExtra are the weekly hours of an hours category.
	HoursBase, HoursExtra int
}

// MaxWeeklyHours bounds a category's and a module's weekly hours.
const MaxWeeklyHours = 60

// InHours reports whether the category's nominal is weekly hours.
func (c Category) InHours() bool { return c.HoursBase > 0 }

// Hours is the hours account a certificate of the category starts a
// period with.
func (c Category) Hours() funding.HoursAccount {
	return funding.HoursAccount{Base: c.HoursBase, Extra: c.HoursExtra}
}

// Validate checks the form of a category: a code, a non-negative nominal
// and caps. The code is a text of at most funding.MaxCodeLen characters
// that must already be clean (funding.Text changes nothing in it): a
// category is found by its code, and two codes that look the same must be
// the same code.
func (c Category) Validate() error {
	if code, err := funding.Text("category.code", c.Code, funding.MaxCodeLen); err != nil {
		return err
	} else if code != c.Code {
		return &funding.ValidationError{Field: "category.code", Rule: "must be trimmed, in NFC and without invisible characters", Value: c.Code}
	}
	switch {
	case c.Code == "":
		return &funding.ValidationError{Field: "category.code", Rule: "is required"}
	case c.Nominal.IsNegative():
		return &funding.ValidationError{Field: "category.nominal", Rule: "must not be negative", Value: c.Nominal.String()}
	case c.MaxCount < 0:
		return &funding.ValidationError{Field: "category.max_count", Rule: "must not be negative (0 = unlimited)"}
	case c.MaxSum.IsNegative():
		return &funding.ValidationError{Field: "category.max_sum", Rule: "must not be negative (0 = unlimited)", Value: c.MaxSum.String()}
	case c.HoursBase < 0 || c.HoursBase > MaxWeeklyHours:
		return &funding.ValidationError{Field: "category.hours_base", Rule: fmt.Sprintf("must be from 0 to %d hours a week", MaxWeeklyHours), Value: strconv.Itoa(c.HoursBase)}
	case c.HoursExtra < 0 || c.HoursExtra > MaxWeeklyHours:
		return &funding.ValidationError{Field: "category.hours_extra", Rule: fmt.Sprintf("must be from 0 to %d hours a week", MaxWeeklyHours), Value: strconv.Itoa(c.HoursExtra)}
	case c.HoursExtra > 0 && c.HoursBase == 0:
		return &funding.ValidationError{Field: "category.hours_extra", Rule: "needs hours_base: the extra hours add to a nominal in hours", Value: strconv.Itoa(c.HoursExtra)}
	case c.InHours() && !c.Nominal.IsZero():
		return &funding.ValidationError{Field: "category.nominal", Rule: "must be 0 for a category whose nominal is in hours (hours_base)", Value: c.Nominal.String()}
	case c.InHours() && !c.MaxSum.IsZero():
		return &funding.ValidationError{Field: "category.max_sum", Rule: "must be 0 for a category whose nominal is in hours: cap it by max_count", Value: c.MaxSum.String()}
	}
	return nil
}

// Slot reports whether one more certificate fits in the category, given
// the number of funded certificates it already holds and the sum of their
// nominals: usedCount+1 ≤ MaxCount and usedSum+Nominal ≤ MaxSum, each cap
// only when set. Without a slot the certificate joins the queue.
func (c Category) Slot(usedCount int, usedSum funding.Money) bool {
	if c.MaxCount > 0 && usedCount >= c.MaxCount {
		return false
	}
	if c.MaxSum.IsPositive() && c.MaxSum.LessThan(usedSum.Add(c.Nominal)) {
		return false
	}
	return true
}

// Fund switches an accounting children's certificate to funded in category
// when the category has a slot (usedCount funded certificates holding
// usedSum of nominals, as counted by the caller under the category's lock).
// Without a slot it returns ErrNoSlot and the caller queues the
// certificate. Granting the nominal is the ledger's job (package funding).
//
// Refused with ErrNotFundable: a certificate of another scheme, one already
// funded, or one cancelled or expired. A suspended certificate may be
// switched (the switch commits no money).
func (c *Certificate) Fund(category Category, usedCount int, usedSum funding.Money) error {
	if err := c.fundable(category); err != nil {
		return err
	}
	if c.Kind != Accounting {
		return funding.Refuse(ErrNotFundable, CodeNotFundable, "certificate %s is already %s", c.Number, c.Kind)
	}
	if !category.Slot(usedCount, usedSum) {
		return noSlot(category, usedCount, usedSum)
	}
	c.Kind = Funded
	c.Category = category.Code
	return nil
}

// ChangeCategory moves the certificate to category to. It is refused with
// ErrCommitted while anything of the certificate is committed in the
// current period (the caller passes whether money is reserved or spent). A
// funded certificate needs a slot in the new category (usedCount and
// usedSum describe to); an accounting one carries no money and needs none.
// Moving to the category it is in is a no-op.
func (c *Certificate) ChangeCategory(to Category, committed bool, usedCount int, usedSum funding.Money) error {
	if err := c.fundable(to); err != nil {
		return err
	}
	if to.Code == c.Category {
		return nil
	}
	if committed {
		return funding.Refuse(ErrCommitted, CodeCommitted,
			"certificate %s has money reserved or spent; its category cannot change from %q to %q", c.Number, c.Category, to.Code)
	}
	if c.Kind == Funded && !to.Slot(usedCount, usedSum) {
		return noSlot(to, usedCount, usedSum)
	}
	c.Category = to.Code
	return nil
}

func (c *Certificate) fundable(category Category) error {
	if err := category.Validate(); err != nil {
		return err
	}
	if c.Scheme != Supplementary {
		return funding.Refuse(ErrNotFundable, CodeNotFundable, "certificate %s is not a children's certificate", c.Number)
	}
	if c.Status.Terminal() || !c.Status.Valid() {
		return funding.Refuse(ErrNotFundable, CodeNotFundable, "certificate %s is %s", c.Number, c.Status)
	}
	return nil
}

func noSlot(category Category, usedCount int, usedSum funding.Money) error {
	return funding.Refuse(ErrNoSlot, CodeNoSlot, "category %s holds %d of %d certificates, nominals %s + %s of %s",
		category.Code, usedCount, category.MaxCount, usedSum, category.Nominal, category.MaxSum)
}
