package storage

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestWalkFlatJSON(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		`{"a": 1, "b": "x\"y\\z", "c": null, "d": true, "e": [1, "]", {"f": "}"}], "g": {"h": [2]}, "k\u00e9": -1.5e3, "i": false}`,
		`{"id":"0192","n":12345678901234,"s":"","t":"2026-11-23T00:00:00.123456+00:00"}`,
	} {
		want := map[string]json.RawMessage{}
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		got := map[string]json.RawMessage{}
		if err := walkFlatJSON([]byte(doc), func(k string, raw []byte) error {
			got[k] = append(json.RawMessage(nil), raw...)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		for k, v := range want {
			var a, b any
			_ = json.Unmarshal(v, &a)
			if err := json.Unmarshal(got[k], &b); err != nil || !reflect.DeepEqual(a, b) {
				t.Errorf("%s: key %q = %s, want %s", doc, k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d keys, want %d", doc, len(got), len(want))
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":"x}`, `{"a":[1}`, `[1]`} {
		if err := walkFlatJSON([]byte(bad), func(string, []byte) error { return nil }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x01\n\t\x1f", "юникод ✓", `'\x0102'`} {
		var b bytes.Buffer
		appendJSONString(&b, s)
		var got string
		if err := json.Unmarshal(b.Bytes(), &got); err != nil || got != s {
			t.Errorf("%q: %s → %q, %v", s, b.String(), got, err)
		}
	}
}
