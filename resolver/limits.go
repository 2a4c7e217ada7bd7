package resolver

import (
	"time"

	"github.com/rootwalk/rootwalk/resolver/internal/throttle"
)

// Budgets. Each bounds a loop that a broken or hostile DNS tree could
// otherwise keep going forever (compare Unbound's iterator.h MAX_* values).
const (
	// maxReferralDepth bounds the referrals followed while looking up one
	// name. Real trees are rarely more than six cuts deep.
	maxReferralDepth = 24

	// maxChainLength bounds the CNAME and DNAME hops chased for one client
	// question (Unbound allows 11 restarts).
	maxChainLength = 12

	// maxUpstreamQueries bounds the exchanges sent for one client question,
	// sub-resolutions of glueless name servers included.
	maxUpstreamQueries = 64

	// maxSubResolutionDepth bounds how deeply glueless name server lookups
	// may nest (a server whose own servers are glueless, and so on).
	maxSubResolutionDepth = 4

	// maxNSAddressLookups bounds how many glueless server names of one zone
	// are resolved while looking for one that answers.
	maxNSAddressLookups = 4
)

// Timeouts.
const (
	// DefaultTimeout bounds one whole resolution when Options.Timeout is
	// zero. It stays under the 5 s a stub such as dig waits before retrying.
	DefaultTimeout = 4 * time.Second

	// DefaultAttemptTimeout bounds one exchange with one server when no
	// timeout is given; the resolver gives one learned per server.
	DefaultAttemptTimeout = 800 * time.Millisecond

	// DefaultStaleAnswerAfter is the client-response timer of RFC 8767
	// section 5 when Options.StaleAnswerAfter is zero: after it, a stale
	// answer is given while the walk goes on. It is the RFC's suggested
	// 1.8 s, under the 2 s after which many stubs give up on a server.
	DefaultStaleAnswerAfter = 1800 * time.Millisecond

	// staleRecheck is the failure recheck timer of RFC 8767 section 5:
	// once a stale answer has been served because a question's
	// authorities failed, they are not asked about it again for this long.
	staleRecheck = 30 * time.Second
)

// Upstream limits, when Options leave them zero. Even a resolver serving
// a large network seldom sends one server more than a few thousand
// queries a second; the default lets that through and stops what only a
// flood of client questions could cause. A burst of a tenth of a second
// rides on top.
const (
	// DefaultMaxServerQPS is the most queries a second sent to one server.
	DefaultMaxServerQPS = 10_000
	// DefaultMaxOutstanding is the most upstream queries awaiting replies
	// at once (Unbound's outgoing-range default is 4096 ports).
	DefaultMaxOutstanding = 4096
)

// throttleOptions turns Options' upstream limits into the throttle's:
// zero means the default, negative no limit.
func throttleOptions(opts Options) throttle.Options {
	var t throttle.Options
	switch {
	case opts.MaxServerQPS == 0:
		t.PerServerQPS = DefaultMaxServerQPS
	case opts.MaxServerQPS > 0:
		t.PerServerQPS = opts.MaxServerQPS
	}
	switch {
	case opts.MaxOutstanding == 0:
		t.MaxOutstanding = DefaultMaxOutstanding
	case opts.MaxOutstanding > 0:
		t.MaxOutstanding = opts.MaxOutstanding
	}
	return t
}

// ednsBufferSize is the UDP payload size advertised upstream: the DNS Flag
// Day 2020 value, which avoids IP fragmentation on nearly every path.
const ednsBufferSize = 1232
