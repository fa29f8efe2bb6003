package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// blackhole is a TCP proxy to a server that, once frozen, drops what
// either side sends while keeping the connections open: a network
// partition without a reset.
type blackhole struct {
	ln     net.Listener
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newBlackhole(t *testing.T, target string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &blackhole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, c, s)
			b.mu.Unlock()
			go b.pipe(c, s)
			go b.pipe(s, c)
		}
	}()
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = dst.Close()
			}
			return
		}
	}
}

func (b *blackhole) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
}

// When the server stops answering (a partition: no reset, nothing comes
// back) just after the exchange read the token, a refused Check ends the
// exchange within its context: the rollback must not wait without a
// deadline, or the token endpoint hangs instead of answering 503.
func TestExchangeToken_RefusedCheckEndsWithinTheContextDuringAPartition(t *testing.T) {
	pool, bh := newBlackholedPool(t)
	s, clk := newClockedStore(t, pool)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, refresh))

	errCheck := errors.New("refused")
	x := storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID,
		Check: func(*storage.Grant) error {
			bh.frozen.Store(true) // the network goes away right after the row was read
			return errCheck
		}}
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := s.ExchangeToken(tctx, x); done <- err }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, errCheck)
		bh.close() // so that pgx's cancel request fails at once
	case <-time.After(5 * time.Second):
		bh.close() // let it go
		<-done
		t.Fatal("ExchangeToken still waits 4 s past its context's deadline")
	}
}

// newBlackholedPool returns a pool on a fresh schema whose connections go
// through a blackhole in front of the test server, which the caller can
// freeze to cut the network without a reset.
func newBlackholedPool(t *testing.T) (*pgxpool.Pool, *blackhole) {
	t.Helper()
	var bh *blackhole
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
		target := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
		bh = newBlackhole(t, target)
		addr := bh.ln.Addr().(*net.TCPAddr)
		cfg.ConnConfig.Host = "127.0.0.1"
		cfg.ConnConfig.Port = uint16(addr.Port)
		cfg.ConnConfig.Fallbacks = nil
	})
	return pool, bh
}
