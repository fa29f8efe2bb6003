package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// outcome names the class of a store's error, for comparing two stores.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, storage.ErrNotFound):
		return "notfound"
	case errors.Is(err, storage.ErrTokenReused):
		return "reused"
	case errors.Is(err, storage.ErrAlreadyExists):
		return "exists"
	case errors.Is(err, storage.ErrConflict):
		return "conflict"
	case errors.Is(err, errModelCheck):
		return "check"
	}
	return "error: " + err.Error()
}

var errModelCheck = errors.New("check refused")

// TestStoreMatchesMemory drives the memory store (the reference) and the
// Postgres store with one random sequence of operations on one test clock
// and compares every result.
func TestStoreMatchesMemory(t *testing.T) {
	seeds := uint64(12)
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runDiff(t, seed, 600) })
		if t.Failed() {
			return
		}
	}
}

type dTok struct {
	ref  storage.TokenRef
	kind storage.TokenKind
}

func runDiff(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	clk := testclock.New(t0)
	mem := memory.New(memory.Config{Now: clk.Now})
	pool := newSchemaPool(t)
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg := postgres.New(pool, postgres.Config{Now: clk.Now})

	var hashN uint64
	newHash := func() storage.Hash {
		hashN++
		var b [16]byte
		binary.BigEndian.PutUint64(b[:], seed)
		binary.BigEndian.PutUint64(b[8:], hashN)
		return sha256.Sum256(b[:])
	}
	var grants []string
	var toks []dTok
	var log []string
	stats := map[string]int{}
	defer func() { t.Logf("outcomes: %v", stats) }()
	fail := func(format string, args ...any) {
		t.Helper()
		tail := log
		if len(tail) > 40 {
			tail = tail[len(tail)-40:]
		}
		t.Fatalf("seed %d: "+format+"\nlast steps:\n%v", append([]any{seed}, append(args, tail)...)...)
	}
	ttl := func() time.Duration { return time.Duration(1+rng.IntN(40)) * time.Second / 2 }
	scopes := func() []string {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{"read", "write"}[:1+rng.IntN(2)]
	}
	users := []string{"u1", "u2", ""}
	clients := []string{"c1", "c2", ""}
	kinds := []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode}
	mkTokens := func(gid string, n int, now time.Time) []storage.Token {
		var out []storage.Token
		for range n {
			k := kinds[rng.IntN(len(kinds))]
			tk := storage.Token{Hash: newHash(), Kind: k, GrantID: gid, Scopes: scopes(), IssuedAt: now, ExpiresAt: now.Add(ttl())}
			if rng.IntN(30) == 0 { // a hash taken in this grant
				for i := len(toks) - 1; i >= 0 && i > len(toks)-20; i-- {
					if toks[i].ref.GrantID == gid {
						tk.Hash = toks[i].ref.Hash
						break
					}
				}
			}
			out = append(out, tk)
		}
		return out
	}
	remember := func(ts []storage.Token) {
		for _, tk := range ts {
			toks = append(toks, dTok{ref: storage.TokenRef{GrantID: tk.GrantID, Hash: tk.Hash}, kind: tk.Kind})
		}
	}
	pickTok := func() dTok {
		if len(toks) > 4 && rng.IntN(3) > 0 { // favour recent tokens
			return toks[len(toks)-1-rng.IntN(4)]
		}
		return toks[rng.IntN(len(toks))]
	}
	show := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	both := func(step int, what string, m, p error) {
		t.Helper()
		log = append(log, fmt.Sprintf("%d %s: mem %s pg %s", step, what, outcome(m), outcome(p)))
		stats[strings.Fields(what)[0]+" "+outcome(m)]++
		if outcome(m) != outcome(p) {
			fail("%s: memory %v, postgres %v", what, m, p)
		}
	}

	for step := range steps {
		now := clk.Now()
		switch op := rng.IntN(100); {
		case op < 8 || len(toks) == 0:
			id := fmt.Sprintf("g%d-%d", seed, len(grants))
			g := storage.Grant{ID: id, ClientID: clients[rng.IntN(3)], UserID: users[rng.IntN(3)],
				Username: []string{"", "alice"}[rng.IntN(2)], Scopes: scopes(),
				Binding: []string{"", "", "fp1"}[rng.IntN(3)], CreatedAt: now, ExpiresAt: now.Add(ttl())}
			if rng.IntN(4) == 0 {
				g.Code = &storage.CodeBinding{RedirectURI: "https://a/cb", Challenge: []string{"", "xyz"}[rng.IntN(2)]}
				if g.Code.Challenge != "" {
					g.Code.ChallengeMethod = "S256"
				}
			}
			ts := mkTokens(id, 1+rng.IntN(3), now)
			g2 := g
			em := mem.CreateGrant(ctx, &g, ts...)
			ep := pg.CreateGrant(ctx, &g2, ts...)
			both(step, "create "+id, em, ep)
			if em == nil {
				grants = append(grants, id)
				remember(ts)
			}
		case op < 35:
			tk := pickTok()
			kind := tk.kind
			if rng.IntN(8) == 0 {
				kind = kinds[rng.IntN(len(kinds))]
			}
			im, em := mem.LookupToken(ctx, kind, tk.ref)
			ip, ep := pg.LookupToken(ctx, kind, tk.ref)
			both(step, fmt.Sprintf("lookup %s %v", tk.ref.GrantID, kind), em, ep)
			if im != nil {
				normGrant(&im.Grant)
			}
			if em == nil && !reflect.DeepEqual(im, ip) {
				fail("lookup: memory %s\npostgres %s", show(im), show(ip))
			}
		case op < 65:
			tk := pickTok()
			kind := tk.kind
			if kind != storage.KindRefresh && kind != storage.KindCode || rng.IntN(10) == 0 {
				kind = kinds[rng.IntN(len(kinds))]
			}
			client := "c1"
			if im, err := mem.LookupToken(ctx, tk.kind, tk.ref); err == nil {
				client = im.Grant.ClientID
			}
			if rng.IntN(10) == 0 {
				client = clients[rng.IntN(3)]
			}
			issue := mkTokens(tk.ref.GrantID, rng.IntN(4), now)
			x := storage.Exchange{Kind: kind, Presented: tk.ref, ClientID: client, Issue: issue}
			if rng.IntN(4) == 0 {
				x.Bind = []string{"fp1", "fp2"}[rng.IntN(2)]
			}
			var seenM, seenP *storage.Grant
			withCheck := rng.IntN(2) == 0
			refuse := rng.IntN(6) == 0
			xm, xp := x, x
			if withCheck {
				xm.Check = func(g *storage.Grant) error {
					c := *g
					seenM = &c
					if refuse {
						return errModelCheck
					}
					return nil
				}
				xp.Check = func(g *storage.Grant) error {
					c := *g
					seenP = &c
					if refuse {
						return errModelCheck
					}
					return nil
				}
			}
			gm, em := mem.ExchangeToken(ctx, xm)
			gp, ep := pg.ExchangeToken(ctx, xp)
			both(step, fmt.Sprintf("exchange %s %v as %v client %q check %v refuse %v bind %q n %d", tk.ref.GrantID, tk.kind, kind, client, withCheck, refuse, x.Bind, len(issue)), em, ep)
			normGrant(gm)
			normGrant(seenM)
			if !reflect.DeepEqual(gm, gp) {
				fail("exchange grant: memory %s\npostgres %s", show(gm), show(gp))
			}
			if !reflect.DeepEqual(seenM, seenP) {
				fail("check saw: memory %s\npostgres %s", show(seenM), show(seenP))
			}
			if em == nil {
				remember(issue)
			}
		case op < 73:
			tk := pickTok()
			exp := now.Add(ttl() - 5*time.Second)
			em := mem.ExtendToken(ctx, tk.ref, exp)
			ep := pg.ExtendToken(ctx, tk.ref, exp)
			both(step, fmt.Sprintf("extend %s %v by %v", tk.ref.GrantID, tk.kind, exp.Sub(now)), em, ep)
		case op < 76:
			id := tk0(toks, rng).ref.GrantID
			both(step, "revoke "+id, mem.RevokeGrant(ctx, id), pg.RevokeGrant(ctx, id))
		case op < 78:
			u := users[rng.IntN(3)]
			nm, em := mem.RevokeUser(ctx, u)
			np, ep := pg.RevokeUser(ctx, u)
			both(step, fmt.Sprintf("revokeuser %q %d %d", u, nm, np), em, ep)
			if nm != np {
				fail("revoke user %q: memory %d, postgres %d", u, nm, np)
			}
		case op < 80:
			c := clients[rng.IntN(3)]
			nm, em := mem.RevokeClient(ctx, c)
			np, ep := pg.RevokeClient(ctx, c)
			both(step, fmt.Sprintf("revokeclient %q %d %d", c, nm, np), em, ep)
			if nm != np {
				fail("revoke client %q: memory %d, postgres %d", c, nm, np)
			}
		case op < 88:
			id := []string{"a", "b", "c"}[rng.IntN(3)]
			c := &storage.Client{ID: id, SecretHash: storage.HashGeneratedSecret("h" + fmt.Sprint(rng.IntN(5))), GrantTypes: scopes(), Scopes: scopes(),
				DefaultScopes: scopes(), RedirectURIs: scopes(), Public: rng.IntN(2) == 0, FirstParty: rng.IntN(2) == 0,
				Disabled: rng.IntN(2) == 0, CreatedAt: now, Revision: int64(rng.IntN(4) - 1)}
			c2 := *c
			if rng.IntN(2) == 0 {
				em := mem.CreateClient(ctx, c)
				ep := pg.CreateClient(ctx, &c2)
				both(step, "createclient "+id, em, ep)
			} else {
				em := mem.UpdateClient(ctx, c)
				ep := pg.UpdateClient(ctx, &c2)
				both(step, fmt.Sprintf("updateclient %s rev %d", id, c2.Revision), em, ep)
			}
			if c.Revision != c2.Revision {
				fail("client revision: memory %d, postgres %d", c.Revision, c2.Revision)
			}
			cm, em := mem.GetClient(ctx, id)
			cp, ep := pg.GetClient(ctx, id)
			both(step, "getclient "+id, em, ep)
			normClient(cm)
			if !reflect.DeepEqual(cm, cp) {
				fail("get client: memory %s\npostgres %s", show(cm), show(cp))
			}
			lm, em := mem.ListClients(ctx)
			lp, ep := pg.ListClients(ctx)
			both(step, "listclients", em, ep)
			for _, c := range lm {
				normClient(c)
			}
			if len(lm)+len(lp) > 0 && !reflect.DeepEqual(lm, lp) {
				fail("list clients: memory %s\npostgres %s", show(lm), show(lp))
			}
		case op < 91:
			// The janitor must change nothing the stores show.
			n, err := pg.DeleteExpired(ctx, 1+rng.IntN(5))
			log = append(log, fmt.Sprintf("%d janitor: %d %v", step, n, err))
			if err != nil {
				fail("janitor: %v", err)
			}
		default:
			d := time.Duration(rng.IntN(4)) * time.Second / 2
			clk.Advance(d)
			log = append(log, fmt.Sprintf("%d advance %v", step, d))
		}
	}
}

// normGrant and normClient make empty lists nil: the stores do not tell
// a grant's or a client's empty list from none (Token.Scopes they do).
func normGrant(g *storage.Grant) {
	if g != nil && len(g.Scopes) == 0 {
		g.Scopes = nil
	}
}

func normClient(c *storage.Client) {
	if c == nil {
		return
	}
	for _, l := range []*[]string{&c.GrantTypes, &c.Scopes, &c.DefaultScopes, &c.RedirectURIs} {
		if len(*l) == 0 {
			*l = nil
		}
	}
}

func tk0(toks []dTok, rng *rand.Rand) dTok { return toks[rng.IntN(len(toks))] }
