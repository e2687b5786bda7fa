package catalog

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/edufund/edufund/funding"
)

// Bounds, in characters, of the texts of a program's page and a
// provider's contacts.
const (
	MaxAnnotationLen  = 1000  // a program's annotation, one line
	MaxDescriptionLen = 20000 // a program's full text, several lines
	MaxGoalsLen       = 5000  // a program's goals and tasks, several lines
	MaxTagLen         = 60    // one tag of a program
	MaxTags           = 20    // tags of a program
	MaxAddressLen     = funding.MaxNameLen
	MaxPhoneLen       = 40
	MaxEmailLen       = 254 // RFC 5321's bound on a path
	MaxSiteLen        = 500
	minPhoneDigits    = 5  // a short rural number
	maxPhoneDigits    = 15 // E.164
)

// programContent cleans the texts of a program's page: the annotation one
// line, the description and the goals several (funding.MultilineText),
// and the tags (cleanTags).
func programContent(p *Program) error {
	var err error
	if p.Annotation, err = funding.Text("annotation", p.Annotation, MaxAnnotationLen); err != nil {
		return err
	}
	if p.Description, err = funding.MultilineText("description", p.Description, MaxDescriptionLen); err != nil {
		return err
	}
	if p.Goals, err = funding.MultilineText("goals", p.Goals, MaxGoalsLen); err != nil {
		return err
	}
	p.Tags, err = cleanTags(p.Tags)
	return err
}

// cleanTags cleans a program's tags: at most MaxTags, each a one-line text
// (funding.Text) of at most MaxTagLen characters, not empty, in lower case,
// and none twice once cleaned ("Лего" and "лего " are the same tag). The
// order is kept; no tags is nil.
func cleanTags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, invalid("tags", fmt.Sprintf("must hold at most %d tags", MaxTags), len(tags))
	}
	if len(tags) == 0 {
		return nil, nil
	}
	out := make([]string, len(tags))
	seen := make(map[string]int, len(tags))
	for i, t := range tags {
		field := fmt.Sprintf("tags[%d]", i)
		t, err := required(field, t, MaxTagLen)
		if err != nil {
			return nil, err
		}
		t = strings.ToLower(t)
		if j, ok := seen[t]; ok {
			return nil, invalid(field, fmt.Sprintf("must not repeat tags[%d]", j), t)
		}
		seen[t] = i
		out[i] = t
	}
	return out, nil
}

// providerContacts cleans a provider's contacts, each optional: the
// address a one-line text, the phone (validPhone), the e-mail address
// (validEmail) and the site (validSite).
func providerContacts(p *Provider) error {
	var err error
	if p.Address, err = funding.Text("address", p.Address, MaxAddressLen); err != nil {
		return err
	}
	if p.Phone, err = funding.Text("phone", p.Phone, MaxPhoneLen); err != nil {
		return err
	}
	if rule := validPhone(p.Phone); rule != "" {
		return invalid("phone", rule, p.Phone)
	}
	if p.Email, err = funding.Text("email", p.Email, MaxEmailLen); err != nil {
		return err
	}
	if rule := validEmail(p.Email); rule != "" {
		return invalid("email", rule, p.Email)
	}
	if p.Site, err = funding.Text("site", p.Site, MaxSiteLen); err != nil {
		return err
	}
	if rule := validSite(p.Site); rule != "" {
		return invalid("site", rule, p.Site)
	}
	return nil
}

// validPhone names the rule a phone number breaks, or returns "" (for ""
// too): digits with + ( ) - and spaces, a + only first, and 5 to 15 digits.
func validPhone(s string) string {
	if s == "" {
		return ""
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == '(' || r == ')' || r == '-' || r == ' ':
		default:
			return "must be digits with + ( ) - and spaces, such as +7 (383) 123-45-67"
		}
	}
	if digits < minPhoneDigits || digits > maxPhoneDigits {
		return fmt.Sprintf("must have %d to %d digits", minPhoneDigits, maxPhoneDigits)
	}
	return ""
}

// validEmail names the rule an e-mail address breaks, or returns "" (for
// "" too): one @ between a local part and a domain with a dot inside it,
// no white space, no quotes or brackets. Letters of any script are
// allowed (шк@школа.рф).
func validEmail(s string) string {
	if s == "" {
		return ""
	}
	const rule = "must be an e-mail address, such as school@example.ru"
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`<>()[]\,;:"'`, r) }) >= 0 {
		return rule
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || utf8.RuneCountInString(local) > 64 {
		return rule
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.HasPrefix(domain, "-") {
		return rule
	}
	return ""
}

// validSite names the rule a site breaks, or returns "" (for "" too): an
// absolute http or https URL with a host, no user or password, no white
// space.
func validSite(s string) string {
	if s == "" {
		return ""
	}
	const rule = "must be an http or https address, such as https://example.ru"
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return rule
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Hostname() == "" {
		return rule
	}
	return ""
}
