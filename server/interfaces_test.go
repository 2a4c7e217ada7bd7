package server

import (
	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/resolver"
)

// What cmd wires in must satisfy what the server declares it needs.
var (
	_ Resolver      = (*resolver.Resolver)(nil)
	_ AdminResolver = (*resolver.Resolver)(nil)
	_ ResolverStats = (*resolver.Resolver)(nil)
	_ AdminCache    = (*cache.Cache)(nil)
	_ CacheStats    = (*cache.Cache)(nil)
	_ Clock         = systemClock{}
)
