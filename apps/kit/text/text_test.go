package text_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/govern/kit/text"
)

func TestID(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{
		"alice": true, "user-42": true, "用户": true, strings.Repeat("a", text.MaxIDLen): true,
		"": false, "a\x00b": false, "\xff": false, "a\nb": false, " alice": false, "alice ": false,
		strings.Repeat("a", text.MaxIDLen+1): false, "a\u200bb": true, "tab\there": false,
	} {
		err := text.ID("user_id", v)
		if (err == nil) != ok {
			t.Errorf("ID(%q) = %v, want ok=%v", v, err, ok)
		}
		if err != nil && (!errors.Is(err, text.ErrInvalid) || !strings.HasPrefix(err.Error(), "user_id ")) {
			t.Errorf("ID(%q) error %q does not name the field or match ErrInvalid", v, err)
		}
	}
}

func TestFree(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v        string
		required bool
		ok       bool
	}{
		{"counterfeit bag", true, true},
		{"line one\nline two\ttabbed\r\n", true, true},
		{"", false, true},
		{"", true, false},
		{"   ", true, false},
		{"nul\x00inside", false, false},
		{"bell\a", false, false},
		{"\xc3\x28", false, false},
		{strings.Repeat("é", text.MaxTextLen), true, true},
		{strings.Repeat("é", text.MaxTextLen+1), true, false},
	}
	for _, tc := range cases {
		if err := text.Free("reason", tc.v, text.MaxTextLen, tc.required); (err == nil) != tc.ok {
			t.Errorf("Free(%q, required=%v) = %v, want ok=%v", tc.v, tc.required, err, tc.ok)
		}
	}
}

func TestKeyAndLabel(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{"abc-123_X.y": true, "": false, "has space": false, "é": false,
		strings.Repeat("k", text.MaxKeyLen): true, strings.Repeat("k", text.MaxKeyLen+1): false, "nul\x00": false} {
		if err := text.Key("Idempotency-Key", v); (err == nil) != ok {
			t.Errorf("Key(%q) = %v, want ok=%v", v, err, ok)
		}
	}
	for v, ok := range map[string]bool{"verified": true, "Jury sticker": true, "": false, " ": false, "a\x00": false,
		strings.Repeat("t", text.MaxTagLen+1): false} {
		if err := text.Label("tag", v, text.MaxTagLen); (err == nil) != ok {
			t.Errorf("Label(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{"plain": true, "": true, "a\x00": false, "\xff": false, "tab\t": true} {
		if text.Clean(v) != ok {
			t.Errorf("Clean(%q) != %v", v, ok)
		}
	}
}

func FuzzNothingInvalidPasses(f *testing.F) {
	for _, s := range []string{"alice", "a\x00", "\xff\xfe", " x", "line\nbreak", strings.Repeat("z", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if text.ID("id", s) == nil && (!text.Clean(s) || len(s) > text.MaxIDLen || strings.TrimSpace(s) != s) {
			t.Fatalf("ID accepted %q", s)
		}
		if text.Free("f", s, text.MaxTextLen, false) == nil && !text.Clean(s) {
			t.Fatalf("Free accepted %q", s)
		}
		if text.Key("k", s) == nil && !text.Clean(s) {
			t.Fatalf("Key accepted %q", s)
		}
	})
}
