package certificate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

func TestParsePersonID(t *testing.T) {
	tests := []struct {
		in, want string
		rule     string // a part of the refusal's rule; "" when accepted
	}{
		// SNILS: the usual ways of writing it, and the check number.
		{in: "112-233-445 95", want: "11223344595"},
		{in: "11223344595", want: "11223344595"},
		{in: "112 233 445 95", want: "11223344595"},
		{in: "112-233-445-95", want: "11223344595"},
		{in: " 112-233-445 95\u200b", want: "11223344595"},
		{in: "999-999-999 01", want: "99999999901"}, // sum 405, 405 mod 101 = 1
		{in: "087-654-303 00", want: "08765430300"}, // sum 202, mod 101 = 0
		{in: "001-019-989 00", want: "00101998900"}, // sum 100 is written 00
		{in: "001-019-998 00", want: "00101999800"}, // sum 101, mod 101 = 0
		{in: "001-001-999 65", want: "00100199965"}, // the first checked number
		{in: "001-001-998 77", want: "00100199877"}, // issued before the check number: not checked
		{in: "112-233-445 96", rule: "is a SNILS with a wrong check number"},
		{in: "123-456-789 00", rule: "is a SNILS with a wrong check number"}, // the check number is 64
		{in: "001-001-999 00", rule: "is a SNILS with a wrong check number"},
		{in: "112-233-445  95", rule: "must be a SNILS (11 digits"}, // two spaces: not how a SNILS is written
		// A region's own identifiers.
		{in: "child-ivanov-misha", want: "child-ivanov-misha"},
		{in: "guardian-ivanova", want: "guardian-ivanova"},
		{in: "person-orlova", want: "person-orlova"},
		{in: "x_y.z:1-2", want: "x_y.z:1-2"},
		{in: "1122334459", want: "1122334459"},             // 10 digits: not a SNILS
		{in: "11-22-33-44-59-5", want: "11-22-33-44-59-5"}, // digits grouped otherwise: not a SNILS
		{in: strings.Repeat("a", 100), want: strings.Repeat("a", 100)},
		// What the attack used: one child's id written three more ways.
		{in: "child-ivanov-misha ", want: "child-ivanov-misha"},
		{in: "child-ivanov-\u200bmisha", want: "child-ivanov-misha"},
		{in: "CHILD-IVANOV-MISHA", want: "child-ivanov-misha"},
		{in: "\ufeffChild-Ivanov-Misha\u00ad", want: "child-ivanov-misha"},
		{in: "\u212aid", want: "kid"}, // the Kelvin sign is K in NFC
		// Refused.
		{in: "", rule: "is required"},
		{in: " \u200b ", rule: "is required"},
		{in: "child ivanov", rule: "must be a SNILS (11 digits"},
		{in: "-child", rule: "starting with a letter or digit"},
		{in: "ребёнок-1", rule: "must be a SNILS"},
		{in: "ребе\u0308нок", rule: "must be a SNILS"}, // NFD or NFC, Cyrillic is not an identifier's letter
		{in: "\u017fid", rule: "must be a SNILS"},      // ſ lower-cases to itself
		{in: strings.Repeat("a", 101), rule: "must be at most 100 characters"},
		{in: "child\x00", rule: "must not contain control characters"},
		{in: "a\u0007\u001b[31mb", rule: "must not contain control characters"},
		{in: "child\xff", rule: "must be valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePersonID(tt.in)
			if tt.rule == "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				again, err := ParsePersonID(got)
				require.NoError(t, err, "the canonical form must parse")
				require.Equal(t, got, again, "the canonical form must be its own canonical form")
				return
			}
			var ve *funding.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "person_id", ve.Field)
			require.Contains(t, ve.Rule, tt.rule)
			require.Empty(t, got)
		})
	}
}

func TestHolderCanonicalize(t *testing.T) {
	h := Holder{PersonID: " Child-1\u200b", FullName: " Иванов Андреи\u0306 ", Region: "RU-DEMO ", Municipality: "\ufeffnovograd"}
	require.NoError(t, h.Canonicalize())
	require.Equal(t, Holder{PersonID: "child-1", FullName: "Иванов Андрей", Region: "RU-DEMO", Municipality: "novograd"}, h)

	empty := Holder{FullName: "Иванов"}
	require.NoError(t, empty.Canonicalize(), "an empty person id is left for eligibility to report")
	require.Empty(t, empty.PersonID)

	bad := Holder{PersonID: "child 1", FullName: "a\x00", Region: strings.Repeat("р", 41), Municipality: "novograd\u001b"}
	before := bad
	err := bad.Canonicalize()
	require.ErrorIs(t, err, funding.ErrInvalid)
	require.Equal(t, []string{"holder.person_id", "holder.full_name", "holder.region", "holder.municipality"}, fieldsOf(err))
	require.Equal(t, before, bad, "a holder that does not canonicalise is left as it was")
}

func TestNewCanonical(t *testing.T) {
	p := childParams()
	p.Holder.PersonID = "CHILD-1 "
	p.Holder.FullName = "Иванова Анна\u200b"
	p.GuardianID = "\u200bParent-1"
	p.Municipality = " m7 "
	p.Category = "город\u00ad"
	c, err := New(p)
	require.NoError(t, err)
	require.Equal(t, "child-1", c.Holder.PersonID)
	require.Equal(t, "Иванова Анна", c.Holder.FullName)
	require.Equal(t, "parent-1", c.GuardianID)
	require.Equal(t, "m7", c.Municipality)
	require.Equal(t, "город", c.Category)

}

func TestCategoryCode(t *testing.T) {
	for _, tt := range []struct{ code, rule string }{
		{"город", ""},
		{"", "is required"},
		{"город ", "must be trimmed, in NFC and without invisible characters"},
		{"го\u200bрод", "must be trimmed, in NFC and without invisible characters"},
		{"города\u0306", "must be trimmed, in NFC"},
		{"a\x00", "must not contain control characters"},
	} {
		code, rule := tt.code, tt.rule
		err := Category{Code: code, Nominal: funding.MustMoney("1000.00")}.Validate()
		if rule == "" {
			require.NoError(t, err, code)
			continue
		}
		var ve *funding.ValidationError
		require.True(t, errors.As(err, &ve), "%q: %v", code, err)
		require.Equal(t, "category.code", ve.Field)
		require.Contains(t, ve.Rule, rule, code)
	}
}

// FuzzParsePersonID: an accepted identifier's canonical form is 11 digits
// or a region's identifier, and is its own canonical form.
func FuzzParsePersonID(f *testing.F) {
	for _, s := range []string{"112-233-445 95", "CHILD-1 ", "a\u200bb", "", "-", "12345678901", "ſ", "\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePersonID(s)
		if err != nil {
			require.ErrorIs(t, err, funding.ErrInvalid)
			return
		}
		require.True(t, regionID(got), "ParsePersonID(%q) = %q", s, got)
		again, err := ParsePersonID(got)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
