package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
		s := New(Config{Now: now})
		return storagetest.Backend{Clients: s, Tokens: s, Dump: s.dump}
	})
}

// dump prints everything the store holds, for the hashed-at-rest check.
func (s *Store) dump(context.Context) ([]byte, error) {
	var out []byte
	s.clients.m.Range(func(_, v any) bool {
		out = fmt.Appendf(out, "%+v\n", *v.(*storage.Client))
		return true
	})
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for _, g := range sh.grants {
			out = fmt.Appendf(out, "%+v %+v %+v %+v\n", *g, g.live, g.used, g.code)
		}
		sh.mu.RUnlock()
	}
	return out, nil
}
