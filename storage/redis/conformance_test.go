package redis

import (
	"testing"

	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

// TestConformance runs the suite on every topology; its
// Exchange/ConcurrentOneWinner clauses race the exchange script, the one
// place where concurrent writers meet, without and with a Check (two
// script calls with a guard in between).
func TestConformance(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			tp.client(t) // skip early, with its message, when unset
			storagetest.Run(t, factory(tp))
		})
	}
}
