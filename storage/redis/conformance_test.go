package redis

import (
	"testing"

	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

func TestConformance(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			tp.client(t) // skip early, with its message, when unset
			storagetest.Run(t, factory(tp))
		})
	}
}
