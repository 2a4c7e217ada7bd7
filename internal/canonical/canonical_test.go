package canonical

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The example of RFC 4034 section 6.1, in canonical order.
var rfcOrder = []string{
	"example.",
	"a.example.",
	"yljkjljk.a.example.",
	"Z.a.example.",
	"zABC.a.EXAMPLE.",
	"z.example.",
	"\\001.z.example.",
	"*.z.example.",
	"\\200.z.example.",
}

func TestSortRFC4034(t *testing.T) {
	for seed := range uint64(20) {
		names := slices.Clone(rfcOrder)
		r := rand.New(rand.NewPCG(seed, 1))
		r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		Sort(names)
		if !slices.Equal(names, rfcOrder) {
			t.Fatalf("seed %d: sorted to %q, want %q", seed, names, rfcOrder)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"example.com.", "EXAMPLE.COM", 0},
		{"example.com.", "a.example.com.", -1},
		{"b.example.com.", "a.example.com.", 1},
		{"a.example.com.", "a.b.example.com.", -1}, // a < b at the second label from the root
		{"com.", "net.", -1},
		{".", "com.", -1},
		{".", ".", 0},
		{"a\\.b.example.", "a.example.", 1},    // one label "a.b" after "a"
		{"\\065.example.", "a.example.", 0},    // \065 is A, folded
		{"ab.example.", "a\\255.example.", -1}, // b (0x62) before 0xff
	} {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Compare(tc.b, tc.a); got != -tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		owner, next, name string
		want              bool
	}{
		{"a.example.", "d.example.", "b.example.", true},
		{"a.example.", "d.example.", "x.b.example.", true},
		{"a.example.", "d.example.", "a.example.", false}, // the owner exists
		{"a.example.", "d.example.", "d.example.", false}, // so does next
		{"a.example.", "d.example.", "e.example.", false},
		{"a.example.", "d.example.", "x.a.example.", true}, // below a, before d
		{"z.example.", "example.", "zz.example.", true},    // the last NSEC wraps to the apex
		{"z.example.", "example.", "a.example.", false},
		{"z.example.", "example.", "other.", false},  // outside the zone
		{"example.", "example.", "a.example.", true}, // a zone of one name
	} {
		if got := Covers(tc.owner, tc.next, tc.name); got != tc.want {
			t.Errorf("Covers(%q, %q, %q) = %v, want %v", tc.owner, tc.next, tc.name, got, tc.want)
		}
	}
}

func FuzzCompare(f *testing.F) {
	for _, n := range rfcOrder {
		f.Add(n, "a.example.")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, b) != -Compare(b, a) {
			t.Fatalf("Compare(%q, %q) not antisymmetric", a, b)
		}
		if Compare(a, a) != 0 {
			t.Fatalf("Compare(%q, itself) != 0", a)
		}
	})
}
