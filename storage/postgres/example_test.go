package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// Open a pool on the store's own schema (made beforehand with
// "create schema oauth2"), migrate it, and make the store. (Not run: it
// needs a server.)
func Example() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = "oauth2"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	if err := postgres.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	store := postgres.New(pool, postgres.Config{})
	_ = store // hand it to provider.Config as the ClientStore and TokenStore
}
