package provider

import (
	"slices"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/scope"
	"github.com/oauth2provider/oauth2provider/storage"
)

// parseScope splits a scope parameter (space-delimited, RFC 6749 §3.3)
// into its distinct tokens, in order. Runs of spaces are tolerated; any
// other malformed token is invalid_scope, and so are more than
// maxRequestedScopes distinct tokens. It takes time linear in len(s) and
// memory bounded by maxRequestedScopes: a request may carry tens of
// thousands of distinct tokens (the query of an authorization request is
// bounded only by the server's header limit), which a quadratic search
// for duplicates would spend seconds on, and a set of them tens of MB.
func parseScope(s string) ([]string, *Error) {
	var out []string
	var seen map[string]struct{} // past smallScopeList tokens
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue
		}
		if !scope.ValidToken(tok) {
			return nil, errInvalidScope("malformed scope")
		}
		if seen != nil {
			if _, dup := seen[tok]; dup {
				continue
			}
		} else if slices.Contains(out, tok) {
			continue
		}
		// tok is new.
		if len(out) == maxRequestedScopes {
			return nil, errInvalidScope("too many scopes")
		}
		switch {
		case seen != nil:
			seen[tok] = struct{}{}
		case len(out) == smallScopeList:
			seen = make(map[string]struct{}, 2*smallScopeList)
			for _, t := range out {
				seen[t] = struct{}{}
			}
			seen[tok] = struct{}{}
		}
		out = append(out, tok)
	}
	return out, nil
}

// smallScopeList is how many distinct scopes parseScope finds duplicates
// of by a linear search, before it switches to a set.
const smallScopeList = 16

// maxRequestedScopes is how many distinct scopes a request may name: far
// more than any client is allowed, and few enough that parsing them costs
// a few KB.
const maxRequestedScopes = 256

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// formatScope joins scopes for the scope response parameter.
func formatScope(scopes []string) string { return strings.Join(scopes, " ") }

// grantScopes decides the scopes of a new grant for client c from the
// request's scope parameter: when it names none, the client's
// DefaultScopes that it may ask for (in its Scopes, or the provider's
// DefaultScopes when it has none, and known to the provider), else the
// provider's that the client may have (all of them for a client without
// Scopes); otherwise every requested scope
// must be known to the provider (Config.Scopes, when set) and allowed to
// the client (its Scopes, or the provider's DefaultScopes when it has
// none), or the request is invalid_scope.
func (p *Provider) grantScopes(c *storage.Client, requested string) ([]string, *Error) {
	scopes, e := parseScope(requested)
	if e != nil {
		return nil, e
	}
	allowed := c.Scopes
	if len(allowed) == 0 {
		allowed = p.defaultScopes
	}
	if len(scopes) == 0 {
		if len(c.DefaultScopes) > 0 {
			// Only those the client could ask for by name: a client's
			// DefaultScopes outside what it is allowed, or unknown to the
			// provider, are not given unasked either.
			var out []string
			for _, s := range dedupe(c.DefaultScopes) {
				if _, known := p.knownScopes[s]; slices.Contains(allowed, s) && (known || p.knownScopes == nil) {
					out = append(out, s)
				}
			}
			return out, nil
		}
		if len(c.Scopes) == 0 {
			return slices.Clone(p.defaultScopes), nil
		}
		var out []string // a scope the client may not ask for is not given unasked
		for _, s := range p.defaultScopes {
			if slices.Contains(c.Scopes, s) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	for i, s := range scopes {
		if p.knownScopes != nil {
			if _, ok := p.knownScopes[s]; !ok {
				return nil, errInvalidScope("unknown scope")
			}
		}
		j := slices.Index(allowed, s)
		if j < 0 {
			return nil, errInvalidScope("scope not allowed for this client")
		}
		// The client's own string: the requested one is a view of the
		// request body, which a store would otherwise keep alive.
		scopes[i] = allowed[j]
	}
	return scopes, nil
}

// checkNarrowing checks a refresh request's scope against the grant's
// (RFC 6749 §6): it may narrow them, never widen them. It runs inside the
// store's exchange (under its lock, for the memory store), so it only
// compares.
func checkNarrowing(requested, granted []string) *Error {
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return errInvalidScope("scope exceeds the scope originally granted")
		}
	}
	return nil
}
