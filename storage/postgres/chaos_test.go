package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// TestChaos runs every kind of operation at once on a few grants, under
// read committed and serializable default isolation, and fails on any
// error that is not one of the contract's answers: a deadlock or a
// serialization failure would reach a user as an outage.
func TestChaos(t *testing.T) {
	for _, iso := range []string{"read committed", "serializable"} {
		t.Run(iso, func(t *testing.T) {
			clk := newClock()
			pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
			})
			ctx := context.Background()
			if err := postgres.Migrate(ctx, pool); err != nil {
				t.Fatal(err)
			}
			s := postgres.New(pool, postgres.Config{Now: clk.Now})

			var mu sync.Mutex
			var refs []storage.Token
			seen := map[string]int{}
			users := []string{"u1", "u2", "u3"}
			clients := []string{"c1", "c2"}
			grantOf := map[string]*storage.Grant{}
			add := func(tk ...storage.Token) {
				mu.Lock()
				refs = append(refs, tk...)
				mu.Unlock()
			}
			pick := func(rng *rand.Rand) storage.Token {
				mu.Lock()
				defer mu.Unlock()
				return refs[len(refs)-1-rng.IntN(min(len(refs), 30))]
			}
			create := func(rng *rand.Rand) {
				g := newGrant(t, clk.Now())
				g.UserID = users[rng.IntN(len(users))]
				g.ClientID = clients[rng.IntN(len(clients))]
				_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
				_, r := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 2*time.Hour)
				if err := s.CreateGrant(ctx, g, a, r); err != nil {
					mu.Lock()
					seen["create: "+err.Error()]++
					mu.Unlock()
					return
				}
				mu.Lock()
				grantOf[g.ID] = g
				mu.Unlock()
				add(a, r)
			}
			rng0 := rand.New(rand.NewPCG(1, 2))
			for range 40 {
				create(rng0)
			}
			deadline := time.Now().Add(2 * time.Second)
			var wg sync.WaitGroup
			for w := range 12 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 9))
					for time.Now().Before(deadline) {
						var err error
						what := ""
						switch op := rng.IntN(100); {
						case op < 5:
							create(rng)
							continue
						case op < 55:
							tk := pick(rng)
							mu.Lock()
							g := grantOf[tk.GrantID]
							mu.Unlock()
							_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
							_, r := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 2*time.Hour)
							x := storage.Exchange{Kind: storage.KindRefresh, Presented: ref(tk), ClientID: g.ClientID, Issue: []storage.Token{a, r}}
							if rng.IntN(2) == 0 {
								x.Check = func(*storage.Grant) error { return nil }
							}
							what = fmt.Sprintf("exchange (check %v)", x.Check != nil)
							_, err = s.ExchangeToken(ctx, x)
							if err == nil {
								add(a, r)
							}
						case op < 70:
							tk := pick(rng)
							what = "extend"
							err = s.ExtendToken(ctx, ref(tk), clk.Now().Add(3*time.Hour))
						case op < 75:
							what = "lookup"
							tk := pick(rng)
							_, err = s.LookupToken(ctx, tk.Kind, ref(tk))
						case op < 80:
							what = "revoke grant"
							err = s.RevokeGrant(ctx, pick(rng).GrantID)
						case op < 87:
							what = "revoke user"
							_, err = s.RevokeUser(ctx, users[rng.IntN(len(users))])
						case op < 92:
							what = "revoke client"
							_, err = s.RevokeClient(ctx, clients[rng.IntN(len(clients))])
						default:
							what = "janitor"
							clk.Advance(time.Millisecond)
							_, err = s.DeleteExpired(ctx, 10)
						}
						if outcome(err) != "ok" && outcome(err) != "notfound" && outcome(err) != "reused" {
							mu.Lock()
							seen[what+": "+err.Error()]++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			for k, n := range seen {
				t.Errorf("%dx %s", n, k)
			}
		})
	}
}
