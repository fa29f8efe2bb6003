package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// A transaction of another client holds the grant's row lock and changes
// the grant or the presented token (a revocation, an exchange, an
// extension, a binding) while an exchange or an extension of the same
// grant waits for that lock; when it commits, the waiting call must act
// on the rows as it left them, not as its own snapshot (taken before it
// waited) had them: under read committed only the locked rows are read
// again.
func TestWaitingCallsSeeWhatTheLockHolderCommitted(t *testing.T) {
	type call struct {
		name string
		run  func(f *exchangeFixture, x storage.Exchange) error
	}
	exchange := func(withCheck bool, bind string) call {
		return call{fmt.Sprintf("exchange check=%v bind=%q", withCheck, bind), func(f *exchangeFixture, x storage.Exchange) error {
			x.Bind = bind
			if withCheck {
				x.Check = func(*storage.Grant) error { return nil }
			}
			g, err := f.s.ExchangeToken(context.Background(), x)
			if err != nil {
				return err
			}
			// The grant returned is the grant stored: the holder's
			// binding and its later expiry, not the waiting call's.
			var binding string
			var expires time.Time
			if err := f.pool.QueryRow(context.Background(), `select binding, expires_at from oauth2_grants where id = $1`,
				g.ID).Scan(&binding, &expires); err != nil {
				return err
			}
			if g.Binding != binding || binding != "first" {
				return fmt.Errorf("binding %q returned, %q stored, want the holder's", g.Binding, binding)
			}
			if want := f.clk.Now().Add(72 * time.Hour); !g.ExpiresAt.Equal(expires) || !expires.Equal(want) {
				return fmt.Errorf("grant expiry %v returned, %v stored, want the holder's %v", g.ExpiresAt, expires, want)
			}
			return nil
		}}
	}
	extend := call{"extend", func(f *exchangeFixture, _ storage.Exchange) error {
		return f.s.ExtendToken(context.Background(), ref(f.refresh), f.clk.Now().Add(30*time.Hour))
	}}
	// What the holder does, and what the waiting call must then return.
	holders := []struct {
		name string
		sql  string // $1 grant ID, $2 refresh hash, $3 now
		want map[string]error
	}{
		{"revokes the grant", `update oauth2_grants set revoked_at = $3 where id = $1 and $2::bytea is not null`,
			map[string]error{"exchange": storage.ErrNotFound, "extend": storage.ErrNotFound}},
		{"consumes the token", `update oauth2_tokens set consumed_at = $3 where hash = $2 and grant_id = $1`,
			map[string]error{"exchange": storage.ErrTokenReused, "extend": storage.ErrNotFound}},
		{"expires the token", `update oauth2_tokens set expires_at = $3 where hash = $2 and grant_id = $1`,
			map[string]error{"exchange": storage.ErrNotFound, "extend": storage.ErrNotFound}},
		{"extends and binds the grant", `update oauth2_grants set expires_at = $3::timestamptz + interval '72 hours', binding = 'first' where id = $1 and $2::bytea is not null`,
			map[string]error{"exchange": nil, "extend": nil}},
	}
	for _, mode := range []string{"plain", "strict", "repeatable read", "serializable", "simple protocol", "simple protocol strict", "simple protocol serializable"} {
		strict := strings.HasSuffix(mode, "strict")
		for _, h := range holders {
			for _, c := range []call{exchange(false, ""), exchange(true, ""), exchange(false, "second"), exchange(true, "second"), extend} {
				t.Run(fmt.Sprintf("%s/%s/%s", mode, h.name, c.name), func(t *testing.T) {
					f := newExchangeFixture(t, func(cfg *pgxpool.Config) {
						iso := mode
						if rest, ok := strings.CutPrefix(mode, "simple protocol"); ok {
							cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
							iso = strings.TrimSpace(rest)
						}
						if iso == "repeatable read" || iso == "serializable" {
							cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
						}
					})
					if strict {
						postgres.SetStrict(f.s)
					}
					pool := f.pool
					ctx := context.Background()
					z, zpid := lockHolder(t, pool, `select from oauth2_grants where id = $1 for update`, f.grant.ID)
					_, err := z.Exec(ctx, h.sql, f.grant.ID, f.refresh.Hash[:], f.clk.Now())
					require.NoError(t, err)

					done := make(chan error, 1)
					x, _ := f.rotation(t)
					go func() { done <- c.run(f, x) }()
					require.Eventually(t, func() bool { return blockedBy(pool, zpid) == 1 }, 10*time.Second, 5*time.Millisecond,
						"the call waits for the grant's row")
					require.NoError(t, z.Commit(ctx))
					err = <-done
					key := "exchange"
					if c.name == "extend" {
						key = "extend"
					}
					if want := h.want[key]; want == nil {
						assert.NoError(t, err)
					} else {
						assert.ErrorIs(t, err, want)
					}
					// Nothing the waiting call did may undo the holder's change.
					var revoked, consumed bool
					require.NoError(t, pool.QueryRow(ctx, `select g.revoked_at is not null, t.consumed_at is not null
						from oauth2_grants g join oauth2_tokens t on t.grant_id = g.id where t.hash = $1`, f.refresh.Hash[:]).Scan(&revoked, &consumed))
					switch h.name {
					case "revokes the grant":
						assert.True(t, revoked)
						assert.False(t, consumed, "a token of a revoked grant consumed")
					case "consumes the token":
						if key == "exchange" {
							assert.True(t, revoked, "reuse did not revoke")
						}
					case "expires the token":
						assert.False(t, consumed, "an expired token consumed")
						var exp time.Time
						require.NoError(t, pool.QueryRow(ctx, `select expires_at from oauth2_tokens where hash = $1`, f.refresh.Hash[:]).Scan(&exp))
						assert.True(t, exp.Equal(f.clk.Now()), "an expired token extended to %v", exp)
					}
				})
			}
		}
	}
}
