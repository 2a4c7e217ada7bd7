package server

import (
	"net/http"

	"github.com/rootwalk/rootwalk/resolver"
)

// maxServers bounds GET /servers: the servers a person can read, most
// recently asked first.
const maxServers = 200

// ServerLister is what GET /servers needs of the resolver; an
// AdminResolver without it answers 404 there.
type ServerLister interface {
	Servers(limit int) []resolver.ServerState
}

// ServerJSON is one upstream server in GET /servers.
type ServerJSON struct {
	Addr        string  `json:"addr"`
	SRTTMS      float64 `json:"srtt_ms"` // smoothed RTT (RFC 6298); 0 until it answered
	RTTVarMS    float64 `json:"rttvar_ms"`
	Timeouts    int     `json:"timeouts"` // in a row
	Down        bool    `json:"down"`     // set aside after timeouts in a row
	LameZones   int     `json:"lame_zones"`
	IdleSeconds float64 `json:"idle_seconds"` // since it was last asked
}

// ServersJSON is the reply to GET /servers.
type ServersJSON struct {
	Servers []ServerJSON `json:"servers"`
}

// servers serves GET /servers: the upstream servers the resolver has
// asked, with what it learned of them, for the console's live view.
func (a *Admin) servers(w http.ResponseWriter, r *http.Request) {
	lister, ok := a.opts.Resolver.(ServerLister)
	if !ok {
		http.NotFound(w, r)
		return
	}
	out := ServersJSON{Servers: []ServerJSON{}}
	for _, s := range lister.Servers(maxServers) {
		out.Servers = append(out.Servers, ServerJSON{Addr: s.Addr.String(), SRTTMS: ms(s.SRTT), RTTVarMS: ms(s.RTTVar),
			Timeouts: s.Timeouts, Down: s.Down, LameZones: s.LameZones, IdleSeconds: s.Idle.Seconds()})
	}
	writeJSON(w, a.opts.Logger, out)
}
