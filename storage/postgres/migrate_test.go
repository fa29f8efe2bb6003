package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

func TestMigrate_ConcurrentMigratorsApplyEachMigrationOnce(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = postgres.Migrate(ctx, pool)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "migrator %d", i)
	}

	current, latest, err := postgres.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, latest, current)
	assert.GreaterOrEqual(t, latest, int32(1))

	var versionRows int
	require.NoError(t, pool.QueryRow(ctx, "select count(*) from "+postgres.VersionTable).Scan(&versionRows))
	assert.Equal(t, 1, versionRows, "one version row")

	// The schema works, and migrating again changes nothing.
	s := postgres.New(pool, postgres.Config{})
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", CreatedAt: time.Now()}))
	require.NoError(t, postgres.Migrate(ctx, pool))
	_, err = s.GetClient(ctx, "c1")
	assert.NoError(t, err)
}

func TestNew_DoesNotMigrate(t *testing.T) {
	pool := newSchemaPool(t)
	s := postgres.New(pool, postgres.Config{})

	_, err := s.GetClient(context.Background(), "c1")
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNotFound, "a missing table is an outage, not a missing client")
	_, _, err = postgres.SchemaVersion(context.Background(), pool)
	assert.Error(t, err, "no version table before Migrate")
}
