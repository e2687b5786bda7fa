package importer

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// cells reads a record's columns into values, collecting a RowError for
// each cell that breaks its form, and one for each required cell left
// empty.
type cells struct {
	rec     Record
	section string
	errs    []RowError
}

func (c *cells) bad(field, rule, value string) {
	c.errs = append(c.errs, RowError{Loc: c.rec.Loc, Section: c.section, Field: field, Rule: rule, Value: value})
}

// str is a column's text; a required one must not be empty.
func (c *cells) str(field string) string {
	v := c.rec.Fields[field]
	if _, required := known(c.section, field); required && v == "" {
		c.bad(field, "is required", "")
	}
	return v
}

func (c *cells) id(field string) uuid.UUID {
	v := c.str(field)
	if v == "" {
		return uuid.Nil
	}
	id, err := uuid.Parse(v)
	if err != nil || id == uuid.Nil {
		c.bad(field, "must be a UUID such as 0190a5c2-3b4e-7d1f-9a2b-3c4d5e6f7a8b", v)
		return uuid.Nil
	}
	return id
}

// int is a whole number from min to max; an empty cell is 0.
func (c *cells) int(field string, min, max int) int {
	v := c.str(field)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, " ", ""))
	if err != nil || n < min || n > max {
		c.bad(field, "must be a whole number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max), v)
		return 0
	}
	return n
}

// money reads roubles with kopecks: "30000.00", or as a spreadsheet in
// Russia writes it, "30 000,00"; an empty cell is zero.
func (c *cells) money(field string) funding.Money {
	v := c.str(field)
	if v == "" {
		return funding.Zero
	}
	s := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(v)
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	m, err := funding.ParseMoney(s)
	if err != nil {
		c.bad(field, "must be an amount in roubles such as 30000.00", v)
		return funding.Zero
	}
	if m.IsNegative() {
		c.bad(field, "must not be negative", v)
		return funding.Zero
	}
	return m
}

// date reads YYYY-MM-DD or DD.MM.YYYY; an empty cell is the zero date.
func (c *cells) date(field string) funding.Date {
	v := c.str(field)
	if v == "" {
		return funding.Date{}
	}
	if d, err := funding.ParseDate(v); err == nil {
		return d
	}
	if t, err := time.Parse("02.01.2006", v); err == nil {
		return funding.DateOf(t)
	}
	c.bad(field, "must be a date such as 2026-09-01 or 01.09.2026", v)
	return funding.Date{}
}

// boolean reads true/false, 1/0, yes/no, да/нет; an empty cell is false.
func (c *cells) boolean(field string) bool {
	v := strings.ToLower(c.str(field))
	switch v {
	case "", "false", "0", "no", "нет":
		return false
	case "true", "1", "yes", "да":
		return true
	}
	c.bad(field, "must be true or false", v)
	return false
}

// tags splits a program's tags on "|".
func (c *cells) tags(field string) []string {
	v := c.str(field)
	if v == "" {
		return nil
	}
	var out []string
	for t := range strings.SplitSeq(v, "|") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// domain records what a domain constructor refused of the row.
func (c *cells) domain(err error) bool {
	if err == nil {
		return true
	}
	if re, ok := rowError(c.rec.Loc, c.section, "", err); ok {
		c.errs = append(c.errs, re)
	} else {
		c.bad("", err.Error(), "")
	}
	return false
}
