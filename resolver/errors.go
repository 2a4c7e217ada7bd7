package resolver

import (
	"errors"
	"strings"

	"github.com/rootwalk/rootwalk/resolver/internal/throttle"
)

// Outcomes of a failed resolution that callers branch on with errors.Is.
// NXDOMAIN and NODATA are not errors: they are answers.
var (
	// ErrNoReachableAuthority means that no server of a zone on the path
	// gave a usable reply: all timed out, refused, failed or were lame.
	ErrNoReachableAuthority = errors.New("no reachable authority")

	// ErrBudgetExceeded means a limit of limits.go was reached: too many
	// referrals, CNAME hops, upstream queries or nested sub-resolutions.
	ErrBudgetExceeded = errors.New("resolution budget exceeded")

	// ErrLoop means the walk came back to where it had been: a CNAME loop,
	// or name servers whose addresses can only be found through themselves.
	ErrLoop = errors.New("resolution loop")

	// ErrLameDelegation means a server did not answer for the zone it was
	// delegated: REFUSED, an upward referral, or an empty non-authoritative
	// reply. It is wrapped inside ErrNoReachableAuthority when every server
	// of a zone is lame.
	ErrLameDelegation = errors.New("lame delegation")

	// ErrBadReply means a reply did not match its query (ID, question) or
	// could not be used at all.
	ErrBadReply = errors.New("bad reply")

	// ErrRateLimited means a query was not sent because its server had
	// been sent its share for now (Options.MaxServerQPS). It is wrapped
	// inside ErrNoReachableAuthority when it held back every server of a
	// zone.
	ErrRateLimited = throttle.ErrRateLimited
)

// joinErrors is errors.Join on one line: the errors of several servers,
// separated by semicolons, so that a log line or an EDE text stays one
// line. errors.Is and errors.As see every one of them.
func joinErrors(errs ...error) error {
	if len(errs) == 0 {
		return nil
	}
	return multiError(errs)
}

type multiError []error

func (m multiError) Error() string {
	parts := make([]string, len(m))
	for i, err := range m {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (m multiError) Unwrap() []error { return m }
