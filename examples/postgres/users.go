package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/authcheck"
)

// usersSchema is the application's own users table: the provider never
// reads it, only the AuthChecker below does. password_hash holds an
// argon2id hash from authcheck.HashPassword, or a bcrypt hash made by an
// older application.
const usersSchema = `
CREATE TABLE IF NOT EXISTS users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
)`

// Users is an authcheck.AuthChecker over the users table.
type Users struct {
	pool *pgxpool.Pool
}

// NewUsers creates the users table if needed and returns the checker.
func NewUsers(ctx context.Context, pool *pgxpool.Pool) (*Users, error) {
	if _, err := pool.Exec(ctx, usersSchema); err != nil {
		return nil, fmt.Errorf("users: create table: %w", err)
	}
	return &Users{pool: pool}, nil
}

// Add registers a user with an argon2id hash of password and returns the
// new user's ID.
func (u *Users) Add(ctx context.Context, username, password string) (string, error) {
	hash, err := authcheck.HashPassword(password)
	if err != nil {
		return "", err
	}
	return u.AddHash(ctx, username, hash)
}

// AddHash registers a user with a password hash made elsewhere (argon2id
// or bcrypt), as when importing an existing user table.
func (u *Users) AddHash(ctx context.Context, username, hash string) (string, error) {
	var id int64
	err := u.pool.QueryRow(ctx,
		`INSERT INTO users (username, password_hash) VALUES ($1, $2) RETURNING id`,
		username, hash).Scan(&id)
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return "", fmt.Errorf("users: add: user %q already exists", username)
	}
	if err != nil {
		return "", fmt.Errorf("users: add: %w", err)
	}
	return strconv.FormatInt(id, 10), nil
}

// dummyVerify is authcheck.DummyVerifyContext; the test counts its calls.
var dummyVerify = authcheck.DummyVerifyContext

// CheckAuth implements authcheck.AuthChecker: the user's ID for a right
// password; authcheck.ErrInvalidCredentials, after the same hashing work,
// for an unknown user or a wrong password; any other error when the
// database fails (the provider answers 503, never a token).
func (u *Users) CheckAuth(ctx context.Context, username, password string) (string, error) {
	var (
		id   int64
		hash string
	)
	err := u.pool.QueryRow(ctx,
		`SELECT id, password_hash FROM users WHERE username = $1`, username).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// An unknown user costs what a wrong password costs, and gives up
		// as its check does when the request ends (503 for both).
		if err := dummyVerify(ctx, password); err != nil {
			return "", fmt.Errorf("users: verify unknown user: %w", err)
		}
		return "", authcheck.ErrInvalidCredentials
	}
	if err != nil {
		return "", fmt.Errorf("users: look up: %w", err)
	}
	// With the request's ctx: a check waiting its turn (at most
	// GOMAXPROCS argon2id checks run at once) gives up when the client
	// has gone, and the provider answers 503.
	ok, err := authcheck.VerifyPasswordContext(ctx, hash, password)
	if err != nil {
		return "", fmt.Errorf("users: verify user %d: %w", id, err)
	}
	if !ok {
		return "", authcheck.ErrInvalidCredentials
	}
	// bcrypt read only the first 72 bytes: of a longer password, the
	// rest may not be the user's, so only a shorter one is upgraded.
	if strings.HasPrefix(hash, "$2") && len(password) <= 72 {
		u.upgrade(ctx, id, hash, password)
	}
	return strconv.FormatInt(id, 10), nil
}

// upgrade replaces a bcrypt hash by an argon2id hash of the password that
// was just verified, so the table moves to argon2id one login at a time.
// It is best effort: a failure leaves the bcrypt hash, which still works.
func (u *Users) upgrade(ctx context.Context, id int64, old, password string) {
	hash, err := authcheck.HashPassword(password)
	if err != nil {
		return
	}
	// The WHERE on the old hash keeps a concurrent password change.
	_, _ = u.pool.Exec(ctx,
		`UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, hash, id, old)
}

var _ authcheck.AuthChecker = (*Users)(nil)
