package resolver

import (
	"time"

	"github.com/miekg/dns"
)

// optionalCache lets the walk use a cache without checking for nil: with
// no Cache configured, every lookup misses and every store is dropped.
type optionalCache struct{ c Cache }

func (o optionalCache) lookupAnswer(q Query, now time.Time) (m *dns.Msg, refresh, ok bool) {
	if o.c == nil {
		return nil, false, false
	}
	return o.c.Answer(q, now)
}

func (o optionalCache) known(q Query, now time.Time) (*dns.Msg, bool) {
	if o.c == nil {
		return nil, false
	}
	return o.c.Known(q, now)
}

func (o optionalCache) staleAnswer(q Query, now time.Time) (*dns.Msg, bool) {
	if o.c == nil {
		return nil, false
	}
	return o.c.StaleAnswer(q, now)
}

func (o optionalCache) storeAnswer(q Query, m *dns.Msg, now time.Time) *dns.Msg {
	if o.c == nil {
		return m
	}
	return o.c.StoreAnswer(q, m, now)
}

func (o optionalCache) lookupDelegation(zone string, now time.Time) (*dns.Msg, bool) {
	if o.c == nil {
		return nil, false
	}
	return o.c.Delegation(zone, now)
}

func (o optionalCache) storeDelegation(d *delegation, now time.Time) {
	if o.c != nil && len(d.ns) > 0 {
		o.c.StoreDelegation(d.zone, d.cacheForm(), now)
	}
}

func (o optionalCache) lookupNameError(name string, now time.Time) (*dns.Msg, bool) {
	if o.c == nil {
		return nil, false
	}
	return o.c.NameError(name, now)
}

func (o optionalCache) storeNameError(name string, m *dns.Msg, now time.Time) {
	if o.c != nil {
		o.c.StoreNameError(name, m, now)
	}
}
