package certificate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

func childParams() NewParams {
	return NewParams{
		Number: "1234567890",
		Scheme: Supplementary,
		Holder: Holder{
			PersonID:     "child-1",
			FullName:     "Иванова Мария Петровна",
			BirthDate:    funding.MustDate(2015, 4, 20),
			Sex:          Female,
			Citizenship:  "RU",
			Municipality: "m1",
		},
		GuardianID: "parent-1",
		IssuedOn:   funding.MustDate(2025, 9, 1),
	}
}

func adultParams() NewParams {
	return NewParams{
		Number: "0000000001",
		Scheme: DigitalSkills,
		Holder: Holder{
			PersonID:     "adult-1",
			FullName:     "Петров Пётр",
			BirthDate:    funding.MustDate(1990, 1, 1),
			Sex:          Male,
			Citizenship:  "RU",
			Education:    EducationHigher,
			Region:       "77",
			Registration: Permanent,
		},
		IssuedOn: funding.MustDate(2020, 10, 1),
	}
}

func TestNewChild(t *testing.T) {
	c, err := New(childParams())
	require.NoError(t, err)
	require.NotEqual(t, uuid.Nil, c.ID)
	require.Equal(t, uuid.Version(7), c.ID.Version())
	require.Equal(t, Issued, c.Status)
	require.Equal(t, Accounting, c.Kind)
	require.Equal(t, "m1", c.Municipality)
	require.Equal(t, Forbidden, c.Protection.Mode)
	require.Equal(t, funding.MustDate(2033, 4, 19), c.ValidUntil)

	c2, err := New(childParams())
	require.NoError(t, err)
	require.NotEqual(t, c.ID, c2.ID)
}

func TestNewAdultValidUntil(t *testing.T) {
	c, err := New(adultParams())
	require.NoError(t, err)
	require.Equal(t, funding.MustDate(2020, 12, 31), c.ValidUntil)
	require.Equal(t, Funded, c.Kind)
}

func TestNewLeapBirthday(t *testing.T) {
	p := childParams()
	p.Holder.BirthDate = funding.MustDate(2012, 2, 29)
	c, err := New(p)
	require.NoError(t, err)
	// 18th birthday is 28 Feb 2030 (no 29 Feb): valid through 27 Feb.
	require.Equal(t, funding.MustDate(2030, 2, 27), c.ValidUntil)
}

func TestNewValidation(t *testing.T) {
	hash := HashPassphrase("correct horse", []byte("0123456789abcdef"))
	tests := []struct {
		name   string
		mut    func(*NewParams)
		fields []string
	}{
		{"short number", func(p *NewParams) { p.Number = "123" }, []string{"number"}},
		{"letters in number", func(p *NewParams) { p.Number = "12345x7890" }, []string{"number"}},
		{"no scheme", func(p *NewParams) { p.Scheme = "" }, []string{"scheme"}},
		{"no issue date", func(p *NewParams) { p.IssuedOn = funding.Date{} }, []string{"issued_on"}},
		{"no person", func(p *NewParams) { p.Holder.PersonID = "" }, []string{"holder.person_id"}},
		{"blank name", func(p *NewParams) { p.Holder.FullName = "   " }, []string{"holder.full_name"}},
		{"no birth date", func(p *NewParams) { p.Holder.BirthDate = funding.Date{} }, []string{"holder.birth_date"}},
		{"born after issue", func(p *NewParams) { p.Holder.BirthDate = funding.MustDate(2026, 1, 1) }, []string{"holder.birth_date"}},
		{"child already 18", func(p *NewParams) { p.Holder.BirthDate = funding.MustDate(2007, 9, 1) }, []string{"holder.birth_date"}},
		{"bad sex", func(p *NewParams) { p.Holder.Sex = "x" }, []string{"holder.sex"}},
		{"bad citizenship", func(p *NewParams) { p.Holder.Citizenship = "rus" }, []string{"holder.citizenship"}},
		{"bad registration", func(p *NewParams) { p.Holder.Registration = "none" }, []string{"holder.registration"}},
		{"bad education", func(p *NewParams) { p.Holder.Education = "phd" }, []string{"holder.education"}},
		{"bad kind", func(p *NewParams) { p.Kind = "free" }, []string{"kind"}},
		{"funded without category", func(p *NewParams) { p.Kind = Funded }, []string{"category"}},
		{"no municipality", func(p *NewParams) { p.Holder.Municipality = "" }, []string{"municipality"}},
		{"bad mode", func(p *NewParams) { p.Protection = "open" }, []string{"protection.mode"}},
		{"passphrase mode without hash", func(p *NewParams) { p.Protection = ByPassphrase }, []string{"protection.passphrase_hash"}},
		{"hash without passphrase mode", func(p *NewParams) { p.PassphraseHash = hash }, []string{"protection.passphrase_hash"}},
		{"two at once", func(p *NewParams) { p.Number = ""; p.Holder.PersonID = "" }, []string{"number", "holder.person_id"}},
		{"escape in the name", func(p *NewParams) { p.Holder.FullName = "a\u0007\u001b[31mb" }, []string{"holder.full_name"}},
		{"NUL in the person id", func(p *NewParams) { p.Holder.PersonID = "child\x00" }, []string{"holder.person_id"}},
		{"SNILS with a wrong check number", func(p *NewParams) { p.Holder.PersonID = "112-233-445 96" }, []string{"holder.person_id"}},
		{"guardian not an identifier", func(p *NewParams) { p.GuardianID = "Иванова" }, []string{"guardian_id"}},
		{"NUL in the region", func(p *NewParams) { p.Holder.Region = "\x00" }, []string{"holder.region"}},
		{"NUL in the municipality", func(p *NewParams) { p.Municipality = "m7\x00" }, []string{"municipality"}},
		{"long category", func(p *NewParams) { p.Category = strings.Repeat("к", 41) }, []string{"category"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := childParams()
			tt.mut(&p)
			_, err := New(p)
			require.ErrorIs(t, err, funding.ErrInvalid)
			require.Equal(t, tt.fields, fieldsOf(err))
		})
	}
}

func TestNewAdultValidation(t *testing.T) {
	tests := []struct {
		name   string
		mut    func(*NewParams)
		fields []string
	}{
		{"guardian", func(p *NewParams) { p.GuardianID = "g" }, []string{"guardian_id"}},
		{"accounting", func(p *NewParams) { p.Kind = Accounting }, []string{"kind"}},
		{"no sex", func(p *NewParams) { p.Holder.Sex = "" }, []string{"holder.sex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := adultParams()
			tt.mut(&p)
			_, err := New(p)
			require.Equal(t, tt.fields, fieldsOf(err))
		})
	}
}

func TestNewByPassphrase(t *testing.T) {
	p := childParams()
	p.Protection = ByPassphrase
	p.PassphraseHash = HashPassphrase("correct horse", []byte("0123456789abcdef"))
	c, err := New(p)
	require.NoError(t, err)
	require.Equal(t, ByPassphrase, c.Protection.Mode)
}

func fieldsOf(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ve *funding.ValidationError
		if errors.As(e, &ve) {
			out = append(out, ve.Field)
		}
	}
	walk(err)
	return out
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1234567890", "0000000000", "123456789", "12345678901", "12345x7890", "", "١٢٣٤٥٦٧٨٩٠", "+123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		valid := len(s) == 10
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				valid = false
			}
		}
		if !valid {
			require.ErrorIs(t, err, funding.ErrInvalid)
			require.Empty(t, n)
			return
		}
		require.NoError(t, err)
		require.Equal(t, s, n.String())
	})
}
