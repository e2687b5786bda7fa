package funding

import (
	"errors"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		multiline bool
		max       int
		want      string
		rule      string // a part of the refusal's rule; "" when accepted
	}{
		{name: "plain", in: "Иванов Пётр", max: 40, want: "Иванов Пётр"},
		{name: "trimmed", in: " \u00a0 Робототехника \u2003", max: 40, want: "Робототехника"},
		{name: "empty", in: "", max: 40, want: ""},
		{name: "blank", in: "   ", max: 40, want: ""},
		{name: "NFD й becomes NFC", in: "Андреи\u0306", max: 40, want: "Андрей"},
		{name: "NFC stays", in: "Андрей", max: 40, want: "Андрей"},
		{name: "zero-width space removed", in: "ab\u200bc", max: 40, want: "abc"},
		{name: "invisible at the edges removed before trimming", in: "\ufeff a \u200b", max: 40, want: "a"},
		{name: "soft hyphen, joiners, bidi controls removed", in: "a\u00adb\u200cc\u200dd\u202ee\u2066f", max: 40, want: "abcdef"},
		{name: "only invisible is empty", in: "\u200b\u2060\ufeff", max: 40, want: ""},
		{name: "variation selector and Hangul filler removed", in: "a\ufe0fb\u3164", max: 40, want: "ab"},
		{name: "removal lets a mark compose", in: "и\u200b\u0306", max: 40, want: "й"},
		{name: "at the bound", in: strings.Repeat("я", 40), max: 40, want: strings.Repeat("я", 40)},
		{name: "over the bound in characters", in: strings.Repeat("я", 41), max: 40, rule: "must be at most 40 characters (got 41)"},
		{name: "bound counted after cleaning", in: " " + strings.Repeat("a\u200b", 40) + " ", max: 40, want: strings.Repeat("a", 40)},
		{name: "NUL", in: "a\x00b", max: 40, rule: "must not contain control characters (U+0000 at character 2)"},
		{name: "escape sequence", in: "a\u0007\u001b[31mb", max: 40, rule: "control characters (U+0007 at character 2)"},
		{name: "DEL", in: "\x7f", max: 40, rule: "U+007F"},
		{name: "C1", in: "a\u0085", max: 40, rule: "U+0085"},
		{name: "line feed in one line", in: "a\nb", max: 40, rule: "U+000A"},
		{name: "tab in one line", in: "a\tb", max: 40, rule: "U+0009"},
		{name: "trailing line feed is still a control", in: "ab\n", max: 40, rule: "U+000A"},
		{name: "line separator", in: "a\u2028b", max: 40, rule: "line or paragraph separators"},
		{name: "invalid UTF-8", in: "a\xffb", max: 40, rule: "must be valid UTF-8"},
		{name: "encoded surrogate", in: "\xed\xa0\x80", max: 40, rule: "must be valid UTF-8"},
		{name: "replacement character", in: "a\ufffd", max: 40, rule: "U+FFFD"},
		{name: "multi-line keeps line feeds and tabs", in: "\nболезнь,\n\tсправка\n", multiline: true, max: 40, want: "болезнь,\n\tсправка"},
		{name: "multi-line refuses a carriage return", in: "a\r\nb", multiline: true, max: 40, rule: "control characters other than line feed and tab (U+000D at character 2)"},
		{name: "multi-line refuses NUL", in: "a\x00", multiline: true, max: 40, rule: "U+0000"},
		{name: "multi-line refuses an escape", in: "\u001b[2J", multiline: true, max: 40, rule: "U+001B"},
		{name: "multi-line refuses a paragraph separator", in: "a\u2029b", multiline: true, max: 40, rule: "line or paragraph separators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clean := Text
			if tt.multiline {
				clean = MultilineText
			}
			got, err := clean("holder.full_name", tt.in, tt.max)
			if tt.rule == "" {
				noErr(t, err)
				eq(t, "text", got, tt.want)
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error = %v, want a *ValidationError", err)
			}
			eq(t, "field", ve.Field, "holder.full_name")
			if !strings.Contains(ve.Rule, tt.rule) {
				t.Errorf("rule = %q, want it to contain %q", ve.Rule, tt.rule)
			}
			eq(t, "text", got, "")
		})
	}
}

// FuzzText: whatever comes in, what comes out is clean: valid UTF-8, no
// control or invisible character (line feed and tab in multi-line texts
// aside), trimmed, within the bound, and cleaning it again changes nothing.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a", " a ", "a\x00", "a\u200b", "и\u0306", "\xff", "a\nb\tc", "\u202e", strings.Repeat("я", 50)} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		clean := Text
		if multiline {
			clean = MultilineText
		}
		got, err := clean("f", s, 40)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not a ValidationError", err)
			}
			return
		}
		for _, r := range got {
			if forbidden(r, multiline) != "" || Invisible(r) {
				t.Fatalf("Text(%q) = %q keeps %U", s, got, r)
			}
		}
		if strings.TrimSpace(got) != got || len([]rune(got)) > 40 {
			t.Fatalf("Text(%q) = %q is not trimmed or too long", s, got)
		}
		again, err := clean("f", got, 40)
		if err != nil || again != got {
			t.Fatalf("Text(Text(%q)) = %q, %v; want %q", s, again, err, got)
		}
	})
}
