package memory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

type mTok struct {
	hash     storage.Hash
	kind     storage.TokenKind
	exp      time.Time
	consumed bool
}

type mGrant struct {
	id, client, user string
	exp              time.Time
	revoked          bool
	toks             []*mTok
}

func mErr(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, storage.ErrNotFound):
		return "notfound"
	case errors.Is(err, storage.ErrTokenReused):
		return "reused"
	case errors.Is(err, storage.ErrAlreadyExists):
		return "exists"
	}
	return err.Error()
}

// TestStoreMatchesModel compares the store with a straightforward model of the
// storage.TokenStore contract under random operations, with a clock that
// often lands exactly on expiries.
func TestStoreMatchesModel(t *testing.T) {
	for seed := range uint64(100) {
		runModel(t, seed)
		if t.Failed() {
			return
		}
	}
}

func runModel(t *testing.T, seed uint64) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, 1))
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	var grants []*mGrant
	var hashN uint64
	newHash := func() storage.Hash { hashN++; return chainHash(hashN + seed<<32) }
	tick := time.Second
	ttl := func() time.Duration { return time.Duration(1+rng.IntN(400)) * tick }
	users := []string{"u1", "u2", ""}
	clients := []string{"c1", "c2"}
	var log []string
	maxIdx := 0
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: "+format+"\nlog:\n%v", append([]any{seed}, append(args, log)...)...)
	}
	for step := range 3000 {
		now := clk.Now()
		switch op := rng.IntN(100); {
		case op < 3 || len(grants) == 0:
			id := fmt.Sprintf("g%d", len(grants))
			g := &mGrant{id: id, client: clients[rng.IntN(2)], user: users[rng.IntN(3)], exp: now.Add(ttl())}
			var toks []storage.Token
			for _, k := range []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode} {
				mt := &mTok{hash: newHash(), kind: k, exp: now.Add(ttl())}
				g.toks = append(g.toks, mt)
				if mt.exp.After(g.exp) {
					g.exp = mt.exp
				}
				toks = append(toks, storage.Token{Hash: mt.hash, Kind: k, GrantID: id, IssuedAt: now, ExpiresAt: mt.exp})
			}
			err := s.CreateGrant(ctx, &storage.Grant{ID: id, ClientID: g.client, UserID: g.user, CreatedAt: now, ExpiresAt: now.Add(ttl())}, toks...)
			// the grant's own ExpiresAt is random too: recompute
			if err != nil {
				fail("create: %v", err)
			}
			// read back the stored expiry via the model rule: max of grant and tokens
			grants = append(grants, g)
			// fix the model's grant expiry to what the store was given
			gi := s.shardOf(id).grants[id]
			g.exp = fromNano(gi.expires)
			log = append(log, fmt.Sprintf("%d create %s user=%q exp=%v", step, id, g.user, g.exp.Sub(now)))
		case op < 45:
			g := grants[rng.IntN(len(grants))]
			mt := g.toks[rng.IntN(len(g.toks))]
			if rng.IntN(20) > 0 {
				g = grants[len(grants)-1-rng.IntN(min(3, len(grants)))]
				for i := len(g.toks) - 1; i >= 0; i-- {
					if g.toks[i].kind == storage.KindRefresh {
						mt = g.toks[i]
						break
					}
				}
			}
			kind := storage.KindRefresh
			if rng.IntN(5) == 0 {
				kind = storage.KindCode
			}
			client := g.client
			if rng.IntN(10) == 0 {
				client = clients[rng.IntN(2)]
			}
			var issue []storage.Token
			var nts []*mTok
			for _, k := range []storage.TokenKind{storage.KindAccess, storage.KindRefresh} {
				nt := &mTok{hash: newHash(), kind: k, exp: now.Add(ttl())}
				nts = append(nts, nt)
				issue = append(issue, storage.Token{Hash: nt.hash, Kind: k, GrantID: g.id, IssuedAt: now, ExpiresAt: nt.exp})
			}
			// model
			want := "notfound"
			if g.exp.After(now) && g.client == client && mt.kind == kind && mt.exp.After(now) {
				switch {
				case mt.consumed:
					want = "reused"
				case g.revoked:
				default:
					want = "ok"
				}
			}
			_, err := s.ExchangeToken(ctx, storage.Exchange{Kind: kind, Presented: storage.TokenRef{GrantID: g.id, Hash: mt.hash}, ClientID: client, Issue: issue})
			log = append(log, fmt.Sprintf("%d exchange %s tok(kind %v exp %v consumed %v) as %v: %s (want %s)", step, g.id, mt.kind, mt.exp.Sub(now), mt.consumed, kind, mErr(err), want))
			if got := mErr(err); got != want {
				fail("exchange: got %s want %s", got, want)
			}
			switch want {
			case "reused":
				g.revoked = true
			case "ok":
				if sg := s.shardOf(g.id).grants[g.id]; sg != nil && sg.index != nil {
					maxIdx = max(maxIdx, sg.tokens())
				}
				mt.consumed = true
				for _, nt := range nts {
					g.toks = append(g.toks, nt)
					if nt.exp.After(g.exp) {
						g.exp = nt.exp
					}
				}
			}
		case op < 60:
			g := grants[rng.IntN(len(grants))]
			mt := g.toks[rng.IntN(len(g.toks))]
			kind := mt.kind
			if rng.IntN(5) == 0 {
				kind = storage.TokenKind(1 + rng.IntN(3))
			}
			want := "notfound"
			if !g.revoked && g.exp.After(now) && !mt.consumed && mt.kind == kind && mt.exp.After(now) {
				want = "ok"
			}
			_, err := s.LookupToken(ctx, kind, storage.TokenRef{GrantID: g.id, Hash: mt.hash})
			if got := mErr(err); got != want {
				fail("step %d lookup %s: got %s want %s", step, g.id, got, want)
			}
		case op < 70:
			g := grants[rng.IntN(len(grants))]
			mt := g.toks[rng.IntN(len(g.toks))]
			exp := now.Add(ttl())
			want := "notfound"
			if !g.revoked && g.exp.After(now) && !mt.consumed && mt.exp.After(now) {
				want = "ok"
			}
			err := s.ExtendToken(ctx, storage.TokenRef{GrantID: g.id, Hash: mt.hash}, exp)
			log = append(log, fmt.Sprintf("%d extend %s: %s", step, g.id, mErr(err)))
			if got := mErr(err); got != want {
				fail("extend: got %s want %s", got, want)
			}
			if want == "ok" {
				mt.exp = exp
				if exp.After(g.exp) {
					g.exp = exp
				}
			}
		case op < 74:
			g := grants[rng.IntN(len(grants))]
			if err := s.RevokeGrant(ctx, g.id); err != nil {
				fail("revoke: %v", err)
			}
			g.revoked = true
			log = append(log, fmt.Sprintf("%d revoke %s", step, g.id))
		case op < 77:
			u := users[rng.IntN(3)]
			want := 0
			for _, g := range grants {
				if u != "" && g.user == u && !g.revoked && g.exp.After(now) {
					want++
				}
				if u != "" && g.user == u {
					g.revoked = true
				}
			}
			n, err := s.RevokeUser(ctx, u)
			log = append(log, fmt.Sprintf("%d revokeuser %s: %d", step, u, n))
			if err != nil || n != want {
				fail("revoke user: %d %v want %d", n, err, want)
			}
		case op < 79:
			c := clients[rng.IntN(2)]
			want := 0
			for _, g := range grants {
				if g.client == c && !g.revoked && g.exp.After(now) {
					want++
				}
				if g.client == c {
					g.revoked = true
				}
			}
			n, err := s.RevokeClient(ctx, c)
			if err != nil || n != want {
				fail("revoke client: %d %v want %d", n, err, want)
			}
		default:
			// advance: often exactly to an expiry
			if rng.IntN(2) == 0 {
				g := grants[rng.IntN(len(grants))]
				mt := g.toks[rng.IntN(len(g.toks))]
				if d := mt.exp.Sub(now); d > 0 {
					clk.Advance(d)
					break
				}
			}
			clk.Advance(time.Duration(rng.IntN(3)) * tick / 2)
		}
	}
	checkInvariants(t, s)
	indexed := 0
	for i := range s.shards {
		for _, g := range s.shards[i].grants {
			if g.index != nil {
				indexed++
				checkTokenIndex(t, g)
			}
		}
	}
	if seed == 0 {
		t.Logf("indexed grants at end: %d, max indexed tokens %d", indexed, maxIdx)
	}
}
