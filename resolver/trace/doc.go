// Package trace records a resolver's walk as a list of steps and shows it:
// as JSON (the admin API's /trace and `rootwalk trace --json`) and as an
// indented text tree (`rootwalk trace`), the way someone learning DNS
// would want to see it.
//
// Data flow: Run attaches a Recorder to the context (resolver.WithTracer)
// and resolves one question; each resolver.Event becomes a Step, with the
// reply it carried summarised as records in zone-file form. The resulting
// Trace is plain data: it goes over HTTP as JSON and comes back the same,
// so the text view of a remote trace and of a local one are one renderer.
package trace
