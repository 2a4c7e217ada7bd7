package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
	goredis "github.com/redis/go-redis/v9"
)

// FlushTimeout bounds a fleet-wide flush. A flush is an operator's
// request, not a client's query: it may take longer than one call, since
// a subtree's or everything's keys are found by scanning.
const FlushTimeout = 30 * time.Second

// scanCount is how many keys each SCAN step asks for.
const scanCount = 1000

// flushMessage is what a flush publishes to the fleet.
type flushMessage struct {
	From    string `json:"from"`    // the instance that flushed
	Name    string `json:"name"`    // "" for everything
	Subtree bool   `json:"subtree"` // the names below went too
}

// Flush deletes from Redis the answers at name ("" for every answer of
// the fleet), and those below it with subtree, then tells the other
// instances to drop them from their own caches. It returns how many
// answers it deleted from Redis.
func (t *Tier) Flush(ctx context.Context, name string, subtree bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, FlushTimeout)
	defer cancel()
	if name != "" {
		name = strings.ToLower(dns.Fqdn(name))
	}
	var (
		n   int
		err error
	)
	switch {
	case name == "" || name == "." && subtree:
		n, err = t.deleteScan(ctx, t.keys.all(), nil)
	case subtree:
		n, err = t.deleteScan(ctx, t.keys.answers(), func(owner string) bool { return dns.IsSubDomain(name, owner) })
	default:
		n, err = t.deleteName(ctx, name)
	}
	if err != nil {
		return n, fmt.Errorf("redis: flush %q: %w", name, err)
	}
	msg, err := json.Marshal(flushMessage{From: t.id, Name: name, Subtree: subtree})
	if err != nil {
		return n, fmt.Errorf("redis: flush %q: %w", name, err)
	}
	if err := t.client.Publish(ctx, t.keys.channel(), msg).Err(); err != nil {
		return n, fmt.Errorf("redis: publish flush of %q: %w", name, err)
	}
	t.stats.flushes.Add(1)
	return n, nil
}

// deleteName deletes the answers at name, found through its index.
func (t *Tier) deleteName(ctx context.Context, name string) (int, error) {
	idx := t.keys.name(name)
	members, err := t.client.SMembers(ctx, idx).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	if len(members) > 0 {
		deleted, err := t.client.Unlink(ctx, members...).Result()
		if err != nil {
			return 0, err
		}
		n = int(deleted)
	}
	return n, t.client.Unlink(ctx, idx).Err()
}

// deleteScan deletes the keys that match pattern and, when keep is set,
// hold an answer whose owner name it accepts (with that name's index). It
// reads only the first bytes of each value, where the question is.
func (t *Tier) deleteScan(ctx context.Context, pattern string, keep func(owner string) bool) (int, error) {
	n := 0
	var cursor uint64
	for {
		found, next, err := t.client.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return n, err
		}
		doomed := found
		if keep != nil {
			if doomed, err = t.selectOwners(ctx, found, keep); err != nil {
				return n, err
			}
		}
		if len(doomed) > 0 {
			deleted, err := t.client.Unlink(ctx, doomed...).Result()
			if err != nil {
				return n, err
			}
			n += int(deleted)
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// selectOwners returns the keys among found, and their names' indexes,
// whose answers are at names keep accepts.
func (t *Tier) selectOwners(ctx context.Context, found []string, keep func(owner string) bool) ([]string, error) {
	if len(found) == 0 {
		return nil, nil
	}
	heads := make([]*goredis.StringCmd, len(found))
	_, err := t.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range found {
			heads[i] = p.GetRange(ctx, k, 0, maxHeader-1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for i, cmd := range heads {
		e, err := decodeHeader([]byte(cmd.Val()))
		if err != nil {
			continue // gone meanwhile, or not ours to judge: left alone
		}
		if keep(e.q.Name) {
			out = append(out, found[i], t.keys.name(e.q.Name))
		}
	}
	return out, nil
}

// listen passes the fleet's flushes, other than this instance's own, to
// onFlush until the subscription is closed. go-redis reconnects and
// subscribes again by itself after Redis comes back; flushes sent while
// it was away are not replayed, so those entries live out their TTLs.
func (t *Tier) listen(ps *goredis.PubSub, onFlush func(name string, subtree bool)) {
	for msg := range ps.Channel() {
		var f flushMessage
		if err := json.Unmarshal([]byte(msg.Payload), &f); err != nil {
			t.log.Warn("shared cache: unreadable flush message", "err", err)
			continue
		}
		if f.From == t.id {
			continue
		}
		if f.Name != "" {
			if _, ok := dns.IsDomainName(f.Name); !ok {
				t.log.Warn("shared cache: flush of a bad name", "zone", f.Name)
				continue
			}
		}
		t.stats.flushesReceived.Add(1)
		t.log.Info("cache flushed by another instance", "zone", f.Name, "subtree", f.Subtree, "from", f.From)
		onFlush(f.Name, f.Subtree)
	}
}
