package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// options configure the app.
type options struct {
	clientSecretHash string // stored form of the API client's secret
	insecure         bool   // serve plain HTTP (development on loopback only)
	users            authcheck.AuthChecker
}

// apiClientID is the confidential client that scripts and other services
// use to get bearer tokens.
const apiClientID = "notes-cli"

// newRouter builds the app: one set of /api routes that browsers reach
// with a session cookie and API clients with a bearer token.
func newRouter(ctx context.Context, o options) (http.Handler, error) {
	store := memory.New(memory.Config{})
	err := store.CreateClient(ctx, &storage.Client{
		ID:         apiClientID,
		SecretHash: o.clientSecretHash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"notes:read", "notes:write"},
		CreatedAt:  time.Now().UTC(),
	})
	if err != nil {
		return nil, err
	}
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             o.users,
		Scopes:            []string{"notes:read", "notes:write"},
		DefaultScopes:     []string{"notes:read"},
		AllowInsecureHTTP: o.insecure,
	})
	if err != nil {
		return nil, err
	}
	sessions, err := policy.NewSessions(p, policy.SessionConfig{
		// A browser session may do what the user may do.
		Scopes: []string{"notes:read", "notes:write"},
	})
	if err != nil {
		return nil, err
	}

	notes := &notebook{byUser: make(map[string][]note)}
	r := chi.NewRouter()
	// Not middleware.RealIP: it believes X-Forwarded-For from anyone. The
	// provider reads client IPs itself, trusting only the proxies listed
	// in provider.Config.TrustedProxies.
	r.Use(middleware.Recoverer)

	r.Post("/oauth2/token", p.TokenHandler().ServeHTTP)
	r.Post("/oauth2/revoke", p.RevokeHandler().ServeHTTP)
	r.Post("/login", sessions.LoginHandler().ServeHTTP)
	r.Post("/logout", sessions.LogoutHandler().ServeHTTP)

	r.Route("/api", func(r chi.Router) {
		r.Use(policy.CookieOrBearer(sessions))
		r.With(policy.Require("notes:read")).Get("/notes", notes.list)
		r.With(policy.Require("notes:write")).Post("/notes", notes.add)
	})
	return r, nil
}

// note is one note of a user.
type note struct {
	Text string `json:"text"`
	By   string `json:"by"` // how it was written: "cookie" or "bearer"
}

// notebook keeps every user's notes in memory.
type notebook struct {
	mu     sync.Mutex
	byUser map[string][]note
}

// list answers GET /api/notes with the caller's notes, whichever way the
// caller authenticated.
func (n *notebook) list(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	n.mu.Lock()
	notes := append([]note{}, n.byUser[id.UserID]...)
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"user_id": id.UserID, "auth": id.Method, "notes": notes})
}

// maxBody caps the body of POST /api/notes.
const maxBody = 64 << 10

// maxNotes caps the notes of one user: they live in memory.
const maxNotes = 100

// add answers POST /api/notes {"text": "..."}. Behind CookieOrBearer a
// cookie-authenticated POST has passed the cross-origin check, so a
// hostile page cannot add notes through a logged-in browser.
func (n *notebook) add(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	var in struct {
		Text string `json:"text"`
	}
	// MaxBytesReader, not io.LimitReader: a body over the limit is an
	// error (413), not JSON cut short. The decoder's own messages name Go
	// types, so they are not echoed.
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&in)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "the body is over 64 KiB")
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, `the body must be JSON {"text": "..."}`)
		return
	case strings.TrimSpace(in.Text) == "":
		writeError(w, http.StatusBadRequest, "text is empty")
		return
	}
	n.mu.Lock()
	full := len(n.byUser[id.UserID]) >= maxNotes
	if !full {
		n.byUser[id.UserID] = append(n.byUser[id.UserID], note{Text: in.Text, By: id.Method})
	}
	n.mu.Unlock()
	if full {
		writeError(w, http.StatusConflict, "a user keeps at most 100 notes")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"status": "created"})
}

func writeError(w http.ResponseWriter, status int, description string) {
	writeJSON(w, status, map[string]string{"error": "invalid_request", "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
