package main

import "testing"

func TestPairsVisitsEveryPairOnce(t *testing.T) {
	for _, tc := range []struct{ certs, groups int }{
		{1, 1}, {1, 7}, {7, 1}, {6, 4}, {500, 50}, {2000, 200},
	} {
		p := newPairs(tc.certs, tc.groups)
		seen := make([]bool, tc.certs*tc.groups)
		for range tc.certs * tc.groups {
			c, g, ok := p.take()
			if !ok {
				t.Fatalf("%d×%d: ran out after fewer than %d pairs", tc.certs, tc.groups, len(seen))
			}
			if c < 0 || c >= tc.certs || g < 0 || g >= tc.groups {
				t.Fatalf("%d×%d: pair (%d, %d) out of range", tc.certs, tc.groups, c, g)
			}
			if seen[g*tc.certs+c] {
				t.Fatalf("%d×%d: pair (%d, %d) twice", tc.certs, tc.groups, c, g)
			}
			seen[g*tc.certs+c] = true
		}
		if _, _, ok := p.take(); ok {
			t.Errorf("%d×%d: a pair after all were used", tc.certs, tc.groups)
		}
	}
}
