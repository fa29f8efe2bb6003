package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// queryCounter is a pgx tracer that counts the statements sent, a batch
// as one.
type queryCounter struct{ queries, prepares atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.prepares.Add(1)
	return ctx
}

func (c *queryCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// TraceBatchStart counts a batch, which pgx sends in one round trip, as
// one statement.
func (c *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// reset starts counting again from zero.
func (c *queryCounter) reset() {
	c.queries.Store(0)
	c.prepares.Store(0)
}

// newCountedStore returns a Store on a fresh, migrated schema whose one
// connection (so that its statement cache is warm) counts the statements
// it sends, with the clock at t0.
func newCountedStore(t *testing.T) (*postgres.Store, *clock, *queryCounter) {
	t.Helper()
	counter := &queryCounter{}
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Tracer = counter
		cfg.MaxConns = 1
	})
	require.NoError(t, postgres.Migrate(context.Background(), pool))
	clk := newClock()
	return postgres.New(pool, postgres.Config{Now: clk.Now}), clk, counter
}

func TestLookupToken_IsOneStatement(t *testing.T) {
	s, clk, counter := newCountedStore(t)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, access := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, access))
	_, err := s.LookupToken(ctx, storage.KindAccess, ref(access)) // prepares
	require.NoError(t, err)

	counter.reset()
	ti, err := s.LookupToken(ctx, storage.KindAccess, ref(access))
	require.NoError(t, err)
	assert.Equal(t, int64(1), counter.queries.Load(), "statements per lookup")
	assert.Zero(t, counter.prepares.Load(), "prepares per warm lookup")
	assert.Equal(t, g.ID, ti.Grant.ID)
	assert.Equal(t, "u1", ti.Grant.UserID)
}

func TestLookupToken_RefusesWhatIsNotLive(t *testing.T) {
	tests := []struct {
		name string
		act  func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef)
	}{
		{"another kind", func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef) {
			return storage.KindSession, ref(tk)
		}},
		{"another grant ID", func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef) {
			other := newGrant(t, clk.Now())
			require.NoError(t, s.CreateGrant(context.Background(), other))
			return tk.Kind, storage.TokenRef{GrantID: other.ID, Hash: tk.Hash}
		}},
		{"the token expired", func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef) {
			clk.Advance(time.Hour)
			return tk.Kind, ref(tk)
		}},
		{"the grant was revoked", func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef) {
			require.NoError(t, s.RevokeGrant(context.Background(), g.ID))
			return tk.Kind, ref(tk)
		}},
		{"the user was revoked", func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef) {
			n, err := s.RevokeUser(context.Background(), g.UserID)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			return tk.Kind, ref(tk)
		}},
		{"the client was revoked", func(t *testing.T, s *postgres.Store, clk *clock, g *storage.Grant, tk storage.Token) (storage.TokenKind, storage.TokenRef) {
			n, err := s.RevokeClient(context.Background(), g.ClientID)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			return tk.Kind, ref(tk)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s, _ := newStore(t, clk.Now)
			g := newGrant(t, clk.Now())
			_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
			require.NoError(t, s.CreateGrant(context.Background(), g, tk))
			_, err := s.LookupToken(context.Background(), tk.Kind, ref(tk))
			require.NoError(t, err, "live before")

			kind, r := tt.act(t, s, clk, g, tk)
			_, err = s.LookupToken(context.Background(), kind, r)
			assert.ErrorIs(t, err, storage.ErrNotFound)
		})
	}
}

func TestRevokeUser_EmptyUserIDEndsNothing(t *testing.T) {
	clk := newClock()
	s, _ := newStore(t, clk.Now)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	g.UserID = "" // client_credentials
	_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, tk))

	n, err := s.RevokeUser(ctx, "")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.LookupToken(ctx, tk.Kind, ref(tk))
	assert.NoError(t, err)
}

func TestCreateGrant_RefusesATokenOfAnotherGrant(t *testing.T) {
	clk := newClock()
	s, pool := newStore(t, clk.Now)
	g := newGrant(t, clk.Now())
	_, tk := newToken(t, storage.KindAccess, "BBBBBBBBBBBBBBBBBBBBBB", clk.Now(), time.Hour)
	require.Error(t, s.CreateGrant(context.Background(), g, tk))
	grants, tokens := countRows(t, pool)
	assert.Zero(t, grants+tokens, "nothing stored")
}

// A token passed to CreateGrant without a GrantID is stored under the
// grant's ID, as CreateGrant documents, not refused as another grant's.
func TestCreateGrant_StoresATokenWithoutGrantIDUnderTheGrant(t *testing.T) {
	clk := newClock()
	s, _ := newStore(t, clk.Now)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	tk.GrantID = ""
	require.NoError(t, s.CreateGrant(ctx, g, tk))
	ti, err := s.LookupToken(ctx, storage.KindAccess, storage.TokenRef{GrantID: g.ID, Hash: tk.Hash})
	require.NoError(t, err)
	assert.Equal(t, g.ID, ti.Token.GrantID)
	assert.Equal(t, g.ID, ti.Grant.ID)
}

func TestListClients_OrdersByteWise(t *testing.T) {
	s, pool := newStore(t, nil)
	ctx := context.Background()
	// A database whose collation is linguistic, as most are (a test
	// server's is often C, which orders byte-wise anyway): the ID column
	// takes ICU's root collation, when the server has ICU.
	var icu bool
	require.NoError(t, pool.QueryRow(ctx, `select exists (select 1 from pg_collation where collname = 'und-x-icu')`).Scan(&icu))
	if icu {
		_, err := pool.Exec(ctx, `alter table oauth2_clients alter column id type text collate "und-x-icu"`)
		require.NoError(t, err)
	} else {
		t.Log("no ICU collation on the server: ordered under the database's own collation only")
	}
	for _, id := range []string{"b", "B", "a", "_x", "A"} {
		require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: id, Public: true, CreatedAt: t0}))
	}
	cs, err := s.ListClients(ctx)
	require.NoError(t, err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	assert.Equal(t, []string{"A", "B", "_x", "a", "b"}, ids)
}

// A client's CreatedAt reads back in UTC from GetClient and ListClients,
// as the grants' and tokens' times do (storagetest's TimesAreUTC),
// whatever zone it was written in: pgx returns a timestamptz in the
// process's local zone.
func TestClients_CreatedAtReadsBackInUTC(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := context.Background()
	created := t0.In(time.FixedZone("UTC+5", 5*3600))
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: created}))
	got, err := s.GetClient(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, time.UTC, got.CreatedAt.Location(), "GetClient")
	assert.True(t, created.Equal(got.CreatedAt), "GetClient: %v, want %v", got.CreatedAt, created)
	list, err := s.ListClients(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, time.UTC, list[0].CreatedAt.Location(), "ListClients")
}

func TestExchangeToken_WithoutCheckIsOneStatement(t *testing.T) {
	s, clk, counter := newCountedStore(t)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 24*time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, refresh))
	rotate := func() storage.Token {
		_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
		_, r := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 48*time.Hour)
		got, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh),
			ClientID: g.ClientID, Issue: []storage.Token{a, r}})
		require.NoError(t, err)
		assert.Equal(t, r.ExpiresAt.UTC(), got.ExpiresAt, "the grant's expiry follows the new refresh token")
		return r
	}
	refresh = rotate() // prepares

	counter.reset()
	refresh = rotate()
	assert.Equal(t, int64(1), counter.queries.Load(), "statements per refresh")
	assert.Zero(t, counter.prepares.Load(), "prepares per warm refresh")
	_, err := s.LookupToken(ctx, storage.KindRefresh, ref(refresh))
	require.NoError(t, err, "the new refresh token is live")
}

// Binding a grant (Exchange.Bind) costs an exchange no statement: without
// a Check it is still one, and with one the binding rides in the batch
// that writes the new tokens (begin, select, batch, commit).
func TestExchangeToken_BindAddsNoStatement(t *testing.T) {
	for _, tc := range []struct {
		name       string
		check      func(*storage.Grant) error
		statements int64
	}{
		{"WithoutCheck", nil, 1},
		{"WithCheck", func(*storage.Grant) error { return nil }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk, counter := newCountedStore(t)
			ctx := context.Background()
			// exchange stores a grant and exchanges its refresh token with
			// bind, and returns the grant the exchange returns.
			exchange := func(bind string) *storage.Grant {
				g := newGrant(t, clk.Now())
				_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
				require.NoError(t, s.CreateGrant(ctx, g, refresh))
				_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
				_, r := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
				counter.reset()
				got, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh),
					ClientID: g.ClientID, Check: tc.check, Issue: []storage.Token{a, r}, Bind: bind})
				require.NoError(t, err)
				return got
			}
			exchange("b1.warm-up") // prepares
			got := exchange("b1.the-client")
			assert.Equal(t, tc.statements, counter.queries.Load(), "statements per exchange that binds")
			assert.Zero(t, counter.prepares.Load(), "prepares per warm exchange")
			assert.Equal(t, "b1.the-client", got.Binding)
		})
	}
}

// RevokeGrant ends a grant that this instance's clock has passed too:
// to an instance whose clock is behind it is still live.
func TestRevokeGrant_EndsAGrantPastItsExpiryByThisClock(t *testing.T) {
	pool := newSchemaPool(t)
	behind, clk := newClockedStore(t, pool)
	ahead := postgres.New(pool, postgres.Config{Now: func() time.Time { return clk.Now().Add(25 * time.Hour) }})
	ctx := context.Background()
	g := newGrant(t, clk.Now()) // for a day
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 24*time.Hour)
	require.NoError(t, behind.CreateGrant(ctx, g, refresh))

	require.NoError(t, ahead.RevokeGrant(ctx, g.ID))
	_, err := behind.LookupToken(ctx, storage.KindRefresh, ref(refresh))
	assert.ErrorIs(t, err, storage.ErrNotFound, "to the instance whose clock is behind")
	_, err = behind.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID})
	assert.ErrorIs(t, err, storage.ErrNotFound, "exchanged on the instance whose clock is behind")
}

// A grant keeps the time of its first revocation: revoking it again, by
// RevokeGrant, RevokeUser or RevokeClient, or presenting its consumed
// refresh token again (reuse, on either exchange path), writes nothing
// (the janitor reclaims revoked grants in the order they were revoked,
// and a grant revoked again and again would go to the back of that queue
// each time).
func TestRevocations_KeepTheFirstRevocationTime(t *testing.T) {
	pool := newSchemaPool(t)
	s, clk := newClockedStore(t, pool)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, refresh))
	_, next := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
	_, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID,
		Issue: []storage.Token{next}})
	require.NoError(t, err)
	first := clk.Now()
	require.NoError(t, s.RevokeGrant(ctx, g.ID))

	for _, check := range []func(*storage.Grant) error{nil, func(*storage.Grant) error { return nil }} {
		clk.Advance(time.Minute)
		_, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID,
			Check: check})
		require.ErrorIs(t, err, storage.ErrTokenReused, "with a Check: %v", check != nil)
	}

	clk.Advance(time.Minute)
	require.NoError(t, s.RevokeGrant(ctx, g.ID))
	n, err := s.RevokeUser(ctx, g.UserID)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = s.RevokeClient(ctx, g.ClientID)
	require.NoError(t, err)
	assert.Zero(t, n)

	var revokedAt time.Time
	require.NoError(t, pool.QueryRow(ctx, `select revoked_at from oauth2_grants where id = $1`, g.ID).Scan(&revokedAt))
	assert.True(t, first.Equal(revokedAt), "revoked at %v, first revoked at %v", revokedAt, first)
}

// Config.Now nil means time.Now: expiry is judged against the system
// clock.
func TestNew_NilNowIsTheSystemClock(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := context.Background()
	now := time.Now()
	g := newGrant(t, now)
	_, live := newToken(t, storage.KindAccess, g.ID, now, time.Hour)
	_, expired := newToken(t, storage.KindAccess, g.ID, now.Add(-time.Hour), time.Minute)
	require.NoError(t, s.CreateGrant(ctx, g, live, expired))

	_, err := s.LookupToken(ctx, storage.KindAccess, ref(live))
	assert.NoError(t, err, "a token that expires in an hour")
	_, err = s.LookupToken(ctx, storage.KindAccess, ref(expired))
	assert.ErrorIs(t, err, storage.ErrNotFound, "a token that expired 59 minutes ago")
}
