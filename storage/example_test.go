package storage_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// Registering a confidential client: generate its secret, store only the
// hash, and hand the secret to the client's operator once (here it is
// not printed: a secret belongs in no log).
func ExampleNewClientSecret() {
	ctx := context.Background()
	store := memory.New(memory.Config{})

	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(ctx, &storage.Client{
		ID:         "billing-service",
		SecretHash: hash, // never the secret itself
		GrantTypes: []string{storage.GrantClientCredentials},
		Scopes:     []string{"invoices:read"},
	})
	if err != nil {
		log.Fatal(err)
	}

	c, err := store.GetClient(ctx, "billing-service")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("secret length:", len(secret))
	fmt.Println("generated (fast hash, not throttled):", storage.IsGeneratedSecretHash(c.SecretHash))
	fmt.Println("right secret:", c.VerifySecret(secret))
	fmt.Println("wrong secret:", c.VerifySecret("guess"))
	// Output:
	// secret length: 43
	// generated (fast hash, not throttled): true
	// right secret: true
	// wrong secret: false
}

// A store refuses a client whose SecretHash is not a stored secret hash:
// the secret itself (here, the two results of NewClientSecret swapped)
// would never verify, and would sit in the clear. The error names the
// client, never the hash.
func ExampleClient_Validate() {
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	store := memory.New(memory.Config{})
	swapped := &storage.Client{ID: "billing-service", SecretHash: secret}
	err = store.CreateClient(context.Background(), swapped)
	fmt.Println(errors.Is(err, storage.ErrInvalidSecretHash), strings.Contains(err.Error(), secret))

	right := &storage.Client{ID: "billing-service", SecretHash: hash}
	fmt.Println(right.Validate(), store.CreateClient(context.Background(), right))
	fmt.Println((&storage.Client{ID: "spa", Public: true}).Validate())
	// Output:
	// true false
	// <nil> <nil>
	// <nil>
}

// A secret a person chose can be guessed, so it is stored with the slow
// argon2id hash; the provider throttles failed attempts at it.
func ExampleHashSecret() {
	hash, err := storage.HashSecret("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(hash, "$argon2id$"), storage.IsGeneratedSecretHash(hash))
	fmt.Println(storage.VerifySecret(hash, "correct horse battery staple"))
	fmt.Println(storage.VerifySecret(hash, "Correct horse battery staple"))
	// Output:
	// true false
	// true
	// false
}

// VerifySecret reads every stored form the package makes; one it cannot
// read never matches.
func ExampleVerifySecret() {
	generated := storage.HashGeneratedSecret("k3vJ8yq0bX1m2n4p6r8t0v2x4z6b8d0f2h4j6l8n0p2")
	fmt.Println(storage.VerifySecret(generated, "k3vJ8yq0bX1m2n4p6r8t0v2x4z6b8d0f2h4j6l8n0p2"))
	fmt.Println(storage.VerifySecret("plain-text-secret", "plain-text-secret"))
	fmt.Println(storage.VerifySecret("", ""))
	// Output:
	// true
	// false
	// false
}

// A server checks the secret a request sent with the request's context:
// when the client goes away while its check of a secret a person chose
// waits its turn, the check gives up with the context's error, which
// says nothing about the secret.
func ExampleVerifySecretContext() {
	hash, err := storage.HashSecret("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fmt.Println(storage.VerifySecretContext(ctx, hash, "correct horse battery staple"))
	cancel() // the client hung up
	fmt.Println(storage.VerifySecretContext(ctx, hash, "correct horse battery staple"))
	// Output:
	// true <nil>
	// false context canceled
}

// A reuse names the grant it revoked; errors.Is still finds the sentinel.
func ExampleReuseError() {
	// What a store's ExchangeToken returns for a refresh token presented
	// a second time (wrapped, as the shipped stores wrap their errors).
	err := fmt.Errorf("redis: exchange token: %w",
		&storage.ReuseError{GrantID: "g1", ClientID: "web", UserID: "user-42"})

	fmt.Println(errors.Is(err, storage.ErrTokenReused))
	var re *storage.ReuseError
	if errors.As(err, &re) {
		fmt.Println("revoked grant", re.GrantID, "of user", re.UserID)
	}
	// Output:
	// true
	// revoked grant g1 of user user-42
}
