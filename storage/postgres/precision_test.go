package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Postgres keeps microseconds. A time with a sub-microsecond part is
// stored as the microsecond before it in every exec mode (pgx truncates
// the binary form and the text form alike; the server would round a
// text form with nanoseconds, to the microsecond after it from .5 on):
// a token is never live past its expiry, and both exchange paths, the
// one statement (judged by the server against the truncated clock) and
// the one with a Check (judged here against the clock's nanoseconds),
// agree whether it is.
func TestSubMicrosecondExpiry_IsTheSameInEveryExecMode(t *testing.T) {
	for name, mode := range map[string]pgx.QueryExecMode{
		"CacheStatement": pgx.QueryExecModeCacheStatement,
		"SimpleProtocol": pgx.QueryExecModeSimpleProtocol,
		"Exec":           pgx.QueryExecModeExec,
	} {
		for _, withCheck := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/OneStatement", true: "/WithCheck"}[withCheck], func(t *testing.T) {
				ctx := context.Background()
				pool := newSchemaPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.DefaultQueryExecMode = mode })
				s, clk := newClockedStore(t, pool)
				g := newGrant(t, clk.Now())
				_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
				refresh.ExpiresAt = refresh.ExpiresAt.Add(700 * time.Nanosecond)
				require.NoError(t, s.CreateGrant(ctx, g, refresh))

				ti, err := s.LookupToken(ctx, storage.KindRefresh, ref(refresh))
				require.NoError(t, err)
				assert.False(t, ti.Token.ExpiresAt.After(refresh.ExpiresAt),
					"stored expiry %v later than the token's %v", ti.Token.ExpiresAt, refresh.ExpiresAt)

				clk.Advance(time.Hour + 800*time.Nanosecond) // expired 100 ns ago
				_, next := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
				x := storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID, Issue: []storage.Token{next}}
				if withCheck {
					x.Check = func(*storage.Grant) error { return nil }
				}
				_, err = s.ExchangeToken(ctx, x)
				assert.ErrorIs(t, err, storage.ErrNotFound, "an expired refresh token exchanged")
			})
		}
	}
}
