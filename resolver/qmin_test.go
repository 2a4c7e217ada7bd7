package resolver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

func newQminResolver(t *testing.T, net Exchanger) *Resolver {
	t.Helper()
	r := newTestResolver(t, net, nil)
	r.qmin = true
	return r
}

func TestQNameMinimisation(t *testing.T) {
	nodata := negative(t, dns.RcodeSuccess, soaExample)
	nx := negative(t, dns.RcodeNameError, soaExample)
	tests := []struct {
		name    string
		qname   string
		example table // extra records of example.test.'s servers
		want    []string
		answer  string
	}{
		{
			name:  "each zone sees one label more",
			qname: "www.example.test.",
			want:  []string{"127.0.0.1 test. A", "127.0.0.2 example.test. A", "127.0.0.3 www.example.test. A"},
		},
		{
			name:    "empty non-terminals are walked down",
			qname:   "a.b.c.example.test.",
			example: table{"c.example.test. A": nodata, "b.c.example.test. A": nodata, "a.b.c.example.test. A": answer(t, "a.b.c.example.test. 60 IN A 192.0.2.9")},
			want: []string{"127.0.0.1 test. A", "127.0.0.2 example.test. A", "127.0.0.3 c.example.test. A",
				"127.0.0.3 b.c.example.test. A", "127.0.0.3 a.b.c.example.test. A"},
			answer: "a.b.c.example.test. 60 IN A 192.0.2.9",
		},
		{
			name:    "NXDOMAIN for an empty non-terminal: ask the full name (relaxed mode)",
			qname:   "a.b.c.example.test.",
			example: table{"c.example.test. A": nx, "a.b.c.example.test. A": answer(t, "a.b.c.example.test. 60 IN A 192.0.2.9")},
			want: []string{"127.0.0.1 test. A", "127.0.0.2 example.test. A", "127.0.0.3 c.example.test. A",
				"127.0.0.3 a.b.c.example.test. A"},
			answer: "a.b.c.example.test. 60 IN A 192.0.2.9",
		},
		{
			name:    "an error for a minimised name: ask the full name",
			qname:   "a.b.c.example.test.",
			example: table{"c.example.test. A": failure(dns.RcodeServerFailure), "a.b.c.example.test. A": answer(t, "a.b.c.example.test. 60 IN A 192.0.2.9")},
			want: []string{"127.0.0.1 test. A", "127.0.0.2 example.test. A", "127.0.0.3 c.example.test. A", "127.0.0.4 c.example.test. A",
				"127.0.0.3 a.b.c.example.test. A"},
			answer: "a.b.c.example.test. 60 IN A 192.0.2.9",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := testTree(t)
			for k, v := range tc.example {
				tree["127.0.0.3"][k] = v
			}
			tree["127.0.0.4"] = tree["127.0.0.3"]
			tree["127.0.0.1"]["test. A"] = referralTo(t, []string{"test. 172800 IN NS ns1.nic.test."}, "ns1.nic.test. 172800 IN A 127.0.0.2")
			tree["127.0.0.2"]["example.test. A"] = tree["127.0.0.2"]["example.test."]
			fake := newFakeNet(tree)
			r := newQminResolver(t, fake)
			res, err := r.Resolve(t.Context(), dns.Question{Name: tc.qname, Qtype: dns.TypeA, Qclass: dns.ClassINET})
			if err != nil {
				t.Fatalf("%v\nqueries %q", err, fake.queries())
			}
			got := fake.queries()
			// Which of example.test.'s two servers answered is chosen at
			// random; count them as one.
			for i := range got {
				got[i] = strings.Replace(got[i], "127.0.0.4 ", "127.0.0.3 ", 1)
			}
			want := slices.Clone(tc.want)
			for i := range want {
				want[i] = strings.Replace(want[i], "127.0.0.4 ", "127.0.0.3 ", 1)
			}
			if !slices.Equal(got, want) {
				t.Errorf("queries\n got %q\nwant %q", got, want)
			}
			if tc.answer != "" && !slices.Equal(dnstest.Sorted(res.Reply.Answer), dnstest.Sorted(dnstest.RRs(t, tc.answer))) {
				t.Errorf("answer %v", res.Reply.Answer)
			}
		})
	}
}

func TestQNameMinimisationIsBounded(t *testing.T) {
	labels := make([]string, 30)
	for i := range labels {
		labels[i] = fmt.Sprintf("l%d", i)
	}
	qname := strings.Join(labels, ".") + ".example.test."
	tree := testTree(t)
	ex := tree["127.0.0.3"]
	for n := 1; n <= len(labels); n++ {
		name := strings.Join(labels[len(labels)-n:], ".") + ".example.test."
		ex[name+" A"] = negative(t, dns.RcodeSuccess, soaExample)
	}
	ex[qname+" A"] = answer(t, qname+" 60 IN A 192.0.2.9")
	tree["127.0.0.4"] = ex
	fake := newFakeNet(tree)
	r := newQminResolver(t, fake)
	if _, err := r.Resolve(t.Context(), dns.Question{Name: qname, Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.queries()); n > maxMinimiseCount+1 {
		t.Errorf("%d queries for a 32-label name, want at most %d minimised and the full one", n, maxMinimiseCount)
	}
}

func TestMinimisedStepsComeFromTheCache(t *testing.T) {
	tree := testTree(t)
	example := tree["127.0.0.3"] // shared with 127.0.0.4
	example["node.example.test. A"] = negative(t, dns.RcodeSuccess, soaExample)
	example["one.node.example.test. A"] = answer(t, "one.node.example.test. 300 IN A 192.0.2.11")
	example["two.node.example.test. A"] = answer(t, "two.node.example.test. 300 IN A 192.0.2.12")
	net := newFakeNet(tree)
	r := newTestResolver(t, net, newMapCache())
	r.qmin = true
	resolve := func(name string) []string {
		t.Helper()
		before := len(net.queries())
		if _, err := r.Resolve(t.Context(), dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			t.Fatal(err)
		}
		var sent []string
		for _, q := range net.queries()[before:] {
			sent = append(sent, q[strings.Index(q, " ")+1:])
		}
		return sent
	}
	resolve("one.node.example.test.")
	if got := resolve("two.node.example.test."); len(got) != 1 || got[0] != "two.node.example.test. A" {
		t.Errorf("second name under the node sent %q, want only the full name: the node's NODATA is cached", got)
	}
}
