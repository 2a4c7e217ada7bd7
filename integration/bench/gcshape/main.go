// Command gcshape measures how long one garbage collection takes with a
// cache of N names (two entries each) held in three shapes, to size what a
// GC-free cache would buy rootwalk (issue 7: marking the cache costs a
// full cache's cold answers about a third of their CPU):
//
//	a: as rootwalk's cache holds entries: golang-lru with struct keys
//	   holding the name string, values pointing at entries with slices of
//	   pointers to decoded records;
//	b: golang-lru with uint64 keys and one packed []byte per entry;
//	c: a map[uint64]uint32 index into a slice of fixed slots, the bytes in
//	   one slab: nothing for the collector to follow.
//
// Usage: go run ./integration/bench/gcshape a|b|c N (N = 600000 for the
// numbers in the issue 7 note).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"
)

type key struct {
	name  string
	qtype uint16
	kind  uint8
}

type rr struct {
	name string
	ttl  uint32
	ip   []byte
}

type entryA struct {
	answer, ns, extra []*rr
	expires           int64
}

type entryB struct {
	wire    []byte
	expires int64
}

// slot is an entry of shape c: where its bytes are in the slab, and the
// fields a policy would need, all plain numbers.
type slot struct {
	off, n     uint32
	expires    int64
	prev, next uint32
}

var keep any

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gcshape a|b|c N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "gcshape: N must be a positive number")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "a":
		c, _ := lru.NewLRU[key, *entryA](4*n, nil)
		for i := range n {
			name := "k" + strconv.Itoa(i) + ".wild.example.com."
			r := &rr{name: name, ttl: 3600, ip: []byte{192, 0, 2, 99}}
			c.Add(key{name, 1, 0}, &entryA{answer: []*rr{r}, ns: nil, extra: nil, expires: int64(i)} /* an A answer: no authority, no additional */)
			c.Add(key{name, 1, 1}, &entryA{answer: []*rr{r}, expires: int64(i)})
		}
		keep = c
	case "b":
		c, _ := lru.NewLRU[uint64, *entryB](4*n, nil)
		for i := range n {
			c.Add(uint64(2*i), &entryB{wire: make([]byte, 60), expires: int64(i)})
			c.Add(uint64(2*i+1), &entryB{wire: make([]byte, 40), expires: int64(i)})
		}
		keep = c
	case "c":
		index := make(map[uint64]uint32, 2*n)
		slots := make([]slot, 0, 2*n)
		slab := make([]byte, 0, 100*n)
		for i := range 2 * n {
			index[uint64(i)] = uint32(len(slots))
			slots = append(slots, slot{off: uint32(len(slab)), n: 50, expires: int64(i), prev: uint32(i), next: uint32(i + 1)})
			slab = append(slab, make([]byte, 50)...)
		}
		keep = []any{index, slots, slab}
	default:
		fmt.Fprintln(os.Stderr, "gcshape: the shape is a, b or c")
		os.Exit(2)
	}
	runtime.GC()
	var best time.Duration
	for range 5 {
		t := time.Now()
		runtime.GC()
		if d := time.Since(t); best == 0 || d < best {
			best = d
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s: %d names, heap %d MB, %d objects, one GC %v (fastest of 5, wall clock, GOMAXPROCS %d)\n",
		os.Args[1], n, ms.HeapAlloc>>20, ms.HeapObjects, best, runtime.GOMAXPROCS(0))
	runtime.KeepAlive(keep)
}
