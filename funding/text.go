package funding

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Bounds, in characters, of the texts people and operators enter; each
// constructor names the bound it applies to each of its fields.
const (
	MaxCodeLen = 40   // a code: region, municipality, category
	MaxNameLen = 300  // a name (of a person, a provider, a program, a module, a group), a schedule, a competency area
	MaxNoteLen = 1000 // a multi-line note, such as a valid reason
)

// Text returns s as the one-line text the domain stores, or a
// *ValidationError naming field and the rule s breaks. s must be valid
// UTF-8 without control characters (NUL, the rest of C0 and C1, DEL),
// line or paragraph separators, or U+FFFD (the mark of a character lost
// in decoding, such as a lone surrogate in JSON). Invisible characters
// are removed (see Invisible), the rest is put in Unicode NFC and
// trimmed of white space, and the result must be at most max characters.
// Text does not refuse an empty result: the caller says whether the field
// is required.
//
// The rule keeps out of storage what would break a statement (NUL), what
// would write to an operator's terminal (escape sequences), and what would
// make two values that look the same compare different (an NFD "й" and
// an NFC one, a name with a zero-width space).
func Text(field, s string, max int) (string, error) { return text(field, s, max, false) }

// MultilineText is Text for a text of several lines, such as a reason:
// it also allows line feeds and tabs.
func MultilineText(field, s string, max int) (string, error) { return text(field, s, max, true) }

func text(field, s string, max int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", &ValidationError{Field: field, Rule: "must be valid UTF-8"}
	}
	for i, r := range []rune(s) {
		if rule := forbidden(r, multiline); rule != "" {
			return "", &ValidationError{Field: field, Rule: fmt.Sprintf("%s (%U at character %d)", rule, r, i+1)}
		}
	}
	s = strings.TrimSpace(norm.NFC.String(strings.Map(func(r rune) rune {
		if Invisible(r) {
			return -1
		}
		return r
	}, s)))
	if n := utf8.RuneCountInString(s); n > max {
		return "", &ValidationError{Field: field, Rule: fmt.Sprintf("must be at most %d characters (got %d)", max, n)}
	}
	return s, nil
}

// forbidden names the rule r breaks in a text, or returns "".
func forbidden(r rune, multiline bool) string {
	switch {
	case multiline && (r == '\n' || r == '\t'):
		return ""
	case unicode.IsControl(r) && multiline:
		return "must not contain control characters other than line feed and tab"
	case unicode.IsControl(r):
		return "must not contain control characters"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "must not contain line or paragraph separators"
	case r == utf8.RuneError:
		return "must not contain U+FFFD, the mark of an undecodable character"
	}
	return ""
}

// Invisible reports whether r is a character that shows nothing and may
// be dropped from a text without changing what a reader sees: Unicode's
// format characters (category Cf: zero-width space, joiners, the byte
// order mark, the soft hyphen, bidirectional controls, …), variation
// selectors, and the other default-ignorable code points (Hangul fillers,
// the combining grapheme joiner, …).
func Invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}
