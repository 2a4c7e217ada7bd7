// Package integration tests rootwalk end to end over real loopback
// sockets: the embedded lab serves a whole DNS tree on 127.53.0.0/16, and
// rootwalk (in-process, or the real binary) resolves against it. Some
// tests use real peers from Debian's packages: dig as a client, and
// Unbound as a second resolver pointed at the same lab (which then has to
// listen on port 53, because glue carries no port).
//
// Nothing here sends a packet outside 127.0.0.0/8.
package integration
