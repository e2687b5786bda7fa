package catalog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// TestProgramContent: the texts of a program's page and its tags, each
// rule named by the field it breaks.
func TestProgramContent(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("тег %d", i)
		}
		return out
	}
	tests := []struct {
		name  string
		edit  func(*catalog.Program)
		field string // "" = valid
	}{
		{"all set", func(p *catalog.Program) {
			p.Annotation, p.Description, p.Goals = "Коротко", "Первая строка\n\tвторая", "Цель:\n- научить"
			p.Tags = []string{"робототехника", "LEGO"}
		}, ""},
		{"none set", func(p *catalog.Program) {}, ""},
		{"annotation at its bound", func(p *catalog.Program) { p.Annotation = strings.Repeat("я", catalog.MaxAnnotationLen) }, ""},
		{"annotation too long", func(p *catalog.Program) { p.Annotation = strings.Repeat("я", catalog.MaxAnnotationLen+1) }, "annotation"},
		{"line feed in the annotation", func(p *catalog.Program) { p.Annotation = "a\nb" }, "annotation"},
		{"NUL in the annotation", func(p *catalog.Program) { p.Annotation = "a\x00" }, "annotation"},
		{"description at its bound", func(p *catalog.Program) { p.Description = strings.Repeat("я", catalog.MaxDescriptionLen) }, ""},
		{"description too long", func(p *catalog.Program) { p.Description = strings.Repeat("я", catalog.MaxDescriptionLen+1) }, "description"},
		{"carriage return in the description", func(p *catalog.Program) { p.Description = "a\r\nb" }, "description"},
		{"escape in the description", func(p *catalog.Program) { p.Description = "a\u001b[31mb" }, "description"},
		{"line separator in the description", func(p *catalog.Program) { p.Description = "a\u2028b" }, "description"},
		{"goals at their bound", func(p *catalog.Program) { p.Goals = strings.Repeat("я", catalog.MaxGoalsLen) }, ""},
		{"goals too long", func(p *catalog.Program) { p.Goals = strings.Repeat("я", catalog.MaxGoalsLen+1) }, "goals"},
		{"NUL in the goals", func(p *catalog.Program) { p.Goals = "\x00" }, "goals"},
		{"20 tags", func(p *catalog.Program) { p.Tags = many(catalog.MaxTags) }, ""},
		{"21 tags", func(p *catalog.Program) { p.Tags = many(catalog.MaxTags + 1) }, "tags"},
		{"blank tag", func(p *catalog.Program) { p.Tags = []string{"лего", "  "} }, "tags[1]"},
		{"invisible tag", func(p *catalog.Program) { p.Tags = []string{"\u200b"} }, "tags[0]"},
		{"tag at its bound", func(p *catalog.Program) { p.Tags = []string{strings.Repeat("я", catalog.MaxTagLen)} }, ""},
		{"tag too long", func(p *catalog.Program) { p.Tags = []string{"a", "b", "c", strings.Repeat("я", catalog.MaxTagLen+1)} }, "tags[3]"},
		{"line feed in a tag", func(p *catalog.Program) { p.Tags = []string{"a\nb"} }, "tags[0]"},
		{"NUL in a tag", func(p *catalog.Program) { p.Tags = []string{"a", "b\x00"} }, "tags[1]"},
		{"tag twice", func(p *catalog.Program) { p.Tags = []string{"лего", "шахматы", "лего"} }, "tags[2]"},
		{"tag twice once cleaned", func(p *catalog.Program) { p.Tags = []string{"Лего", " лего\u200b"} }, "tags[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProgram()
			tt.edit(&p)
			_, err := catalog.NewProgram(p)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			requireField(t, err, tt.field)
		})
	}
}

// TestProgramContentCleaned: the page's texts are stored as the rules
// leave them, the tags in lower case, and the caller's tags are not
// changed.
func TestProgramContentCleaned(t *testing.T) {
	p := validProgram()
	p.Annotation = " Собираем\u200b роботов "
	p.Description = "\nПервая строка\nвторая и\u0306\n"
	p.Goals = "  Цели\n\tзадачи  "
	p.Tags = []string{" Робототехника", "LEGO\u00ad", "3D-моделирование"}
	in := append([]string(nil), p.Tags...)
	got, err := catalog.NewProgram(p)
	require.NoError(t, err)
	require.Equal(t, "Собираем роботов", got.Annotation)
	require.Equal(t, "Первая строка\nвторая й", got.Description)
	require.Equal(t, "Цели\n\tзадачи", got.Goals)
	require.Equal(t, []string{"робототехника", "lego", "3d-моделирование"}, got.Tags)
	require.Equal(t, in, p.Tags)

	p.Tags = []string{}
	got, err = catalog.NewProgram(p)
	require.NoError(t, err)
	require.Nil(t, got.Tags, "no tags are nil")
}

// TestProviderContacts: a provider's address, phone, e-mail address and
// site, each optional and each refused by the field it breaks.
func TestProviderContacts(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*catalog.Provider)
		field string // "" = valid
	}{
		{"none", func(*catalog.Provider) {}, ""},
		{"all", func(p *catalog.Provider) {
			p.Address, p.Phone, p.Email, p.Site = "г. Новоград, ул. Ленина, 1", "+7 (383) 123-45-67", "school@example.ru", "https://school.example.ru/path?q=1"
		}, ""},
		{"short phone", func(p *catalog.Provider) { p.Phone = "12-34-5" }, ""},
		{"phone of 15 digits", func(p *catalog.Provider) { p.Phone = "+123456789012345" }, ""},
		{"phone of 16 digits", func(p *catalog.Provider) { p.Phone = "+1234567890123456" }, "phone"},
		{"phone of 4 digits", func(p *catalog.Provider) { p.Phone = "12-34" }, "phone"},
		{"phone with a letter", func(p *catalog.Provider) { p.Phone = "+7 383 123 45 67 доб. 1" }, "phone"},
		{"phone with + inside", func(p *catalog.Provider) { p.Phone = "7+383 1234567" }, "phone"},
		{"phone of punctuation", func(p *catalog.Provider) { p.Phone = "+()- " }, "phone"},
		{"NUL in the phone", func(p *catalog.Provider) { p.Phone = "123\x0045" }, "phone"},
		{"long phone", func(p *catalog.Provider) { p.Phone = strings.Repeat("1", catalog.MaxPhoneLen+1) }, "phone"},
		{"Cyrillic e-mail", func(p *catalog.Provider) { p.Email = "шк@школа.рф" }, ""},
		{"e-mail without @", func(p *catalog.Provider) { p.Email = "school.example.ru" }, "email"},
		{"e-mail without a dot in the domain", func(p *catalog.Provider) { p.Email = "school@localhost" }, "email"},
		{"e-mail with two @", func(p *catalog.Provider) { p.Email = "a@b@example.ru" }, "email"},
		{"e-mail without a local part", func(p *catalog.Provider) { p.Email = "@example.ru" }, "email"},
		{"e-mail with a space", func(p *catalog.Provider) { p.Email = "a b@example.ru" }, "email"},
		{"e-mail with a name", func(p *catalog.Provider) { p.Email = "School <a@example.ru>" }, "email"},
		{"e-mail domain ends in a dot", func(p *catalog.Provider) { p.Email = "a@example." }, "email"},
		{"e-mail domain with two dots", func(p *catalog.Provider) { p.Email = "a@example..ru" }, "email"},
		{"long e-mail", func(p *catalog.Provider) { p.Email = strings.Repeat("a", 250) + "@b.ru" }, "email"},
		{"http site", func(p *catalog.Provider) { p.Site = "http://example.ru" }, ""},
		{"site without a scheme", func(p *catalog.Provider) { p.Site = "example.ru" }, "site"},
		{"ftp site", func(p *catalog.Provider) { p.Site = "ftp://example.ru" }, "site"},
		{"javascript site", func(p *catalog.Provider) { p.Site = "javascript:alert(1)" }, "site"},
		{"site without a host", func(p *catalog.Provider) { p.Site = "https:///path" }, "site"},
		{"site with a password", func(p *catalog.Provider) { p.Site = "https://user:pw@example.ru" }, "site"},
		{"site with a space", func(p *catalog.Provider) { p.Site = "https://example.ru/a b" }, "site"},
		{"long site", func(p *catalog.Provider) { p.Site = "https://example.ru/" + strings.Repeat("a", catalog.MaxSiteLen) }, "site"},
		{"line feed in the address", func(p *catalog.Provider) { p.Address = "ул. Ленина\n1" }, "address"},
		{"long address", func(p *catalog.Provider) { p.Address = strings.Repeat("я", catalog.MaxAddressLen+1) }, "address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProvider()
			tt.edit(&p)
			_, err := catalog.NewProvider(p)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			requireField(t, err, tt.field)
		})
	}

	p := validProvider()
	p.Address, p.Phone, p.Email, p.Site = " ул. Ленина,\u200b 1 ", " +7 383 1234567 ", "\ufeffa@example.ru", "https://example.ru "
	got, err := catalog.NewProvider(p)
	require.NoError(t, err)
	require.Equal(t, []string{"ул. Ленина, 1", "+7 383 1234567", "a@example.ru", "https://example.ru"}, []string{got.Address, got.Phone, got.Email, got.Site})
}

// TestGroupAddress: a group's address is optional, one line.
func TestGroupAddress(t *testing.T) {
	mod, err := catalog.NewModule(validModule())
	require.NoError(t, err)
	g := validGroup()
	g.Address = " ул. Садовая, 5, каб. 12\u200b "
	got, err := catalog.NewGroup(g, &mod)
	require.NoError(t, err)
	require.Equal(t, "ул. Садовая, 5, каб. 12", got.Address)
	for _, bad := range []string{"a\nb", "\x00", strings.Repeat("я", catalog.MaxAddressLen+1)} {
		g.Address = bad
		_, err := catalog.NewGroup(g, &mod)
		requireField(t, err, "address")
	}
}

// TestGroupMonths: the months a group runs in, its start's and its end's
// included.
func TestGroupMonths(t *testing.T) {
	m := func(y int, mon time.Month) funding.Month { return funding.Month{Year: y, Month: mon} }
	tests := []struct {
		start, end funding.Date
		want       []funding.Month
	}{
		{d(2025, time.September, 15), d(2026, time.January, 10),
			[]funding.Month{m(2025, time.September), m(2025, time.October), m(2025, time.November), m(2025, time.December), m(2026, time.January)}},
		{d(2026, time.March, 1), d(2026, time.March, 31), []funding.Month{m(2026, time.March)}},
		{d(2026, time.March, 31), d(2026, time.April, 1), []funding.Month{m(2026, time.March), m(2026, time.April)}},
		{d(2026, time.March, 2), d(2026, time.March, 1), nil},
		{funding.Date{}, d(2026, time.March, 1), nil},
		{d(2026, time.March, 1), funding.Date{}, nil},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, catalog.Group{Start: tt.start, End: tt.end}.Months(), "%s..%s", tt.start, tt.end)
	}
}
