package text_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/govern/kit/text"
)

// Each validator accepts only what its contract says and refuses with an
// error that names the field and matches ErrInvalid; nothing it accepts could
// make PostgreSQL fail (NUL, invalid UTF-8).
func FuzzText(f *testing.F) {
	for _, s := range []string{"alice", "", " ", "a\x00b", "\xff", "a\nb", " alice", "用户", "a\u200bb", "tab\there",
		"line\r\n", "\u0085", "\u2028", "\ufeffbom", strings.Repeat("é", 65), strings.Repeat("a", 129), "~!key-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		clean := utf8.ValidString(v) && !strings.ContainsRune(v, 0)
		if text.Clean(v) != clean {
			t.Fatalf("Clean(%q) = %v", v, !clean)
		}
		control := strings.ContainsFunc(v, unicode.IsControl)
		runes := utf8.RuneCountInString(v)
		for _, c := range []struct {
			name  string
			err   error
			valid bool // what the contract says
		}{
			{"ID", text.ID("f", v), v != "" && len(v) <= text.MaxIDLen && clean && !control && strings.TrimSpace(v) == v},
			{"OptionalID", text.OptionalID("f", v), v == "" || len(v) <= text.MaxIDLen && clean && !control && strings.TrimSpace(v) == v},
			{"Key", text.Key("f", v), v != "" && len(v) <= text.MaxKeyLen &&
				!strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e })},
			{"Label", text.Label("f", v, text.MaxTagLen), strings.TrimSpace(v) != "" && clean && runes <= text.MaxTagLen && !control},
			{"Free", text.Free("f", v, 50, false), clean && runes <= 50 &&
				!strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' })},
			{"Free required", text.Free("f", v, 50, true), strings.TrimSpace(v) != "" && clean && runes <= 50 &&
				!strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' })},
		} {
			if (c.err == nil) != c.valid {
				t.Fatalf("%s(%q) = %v, want valid=%v", c.name, v, c.err, c.valid)
			}
			if c.err != nil && (!errors.Is(c.err, text.ErrInvalid) || !strings.HasPrefix(c.err.Error(), "f ")) {
				t.Fatalf("%s(%q): error %q does not name the field or match ErrInvalid", c.name, v, c.err)
			}
			if c.err == nil && v != "" && !clean {
				t.Fatalf("%s accepted %q, which PostgreSQL cannot store", c.name, v)
			}
		}
	})
}
