// Package outagetest checks how the provider behaves when its store fails:
// its tests start a real redis-server and a real PostgreSQL on free
// loopback ports, stop them (and freeze Redis) under a running provider,
// and check that the endpoints answer 503 with an RFC 6749 §5.2 JSON error
// (and a protected route a 503 with a Bearer challenge) within a bounded
// time, never a 500 or a hang, and that the provider recovers by itself
// when the server comes back. At the authorization endpoint, a signed-in
// user whose session cannot be read is told of the outage (the 503 error
// page, or temporarily_unavailable redirected to the client once the
// client is known), never sent to the login page. The package has no code
// outside its tests.
//
// The tests skip when redis-server or PostgreSQL's initdb and pg_ctl
// (/usr/lib/postgresql/*/bin) are missing, and fail instead when the
// environment variable CI is "true".
package outagetest
