package adaptertest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
)

// The suite run on a plain http.ServeMux, the router the adapters stand
// in for: it checks the suite itself, with no framework to blame.

// mount registers p's endpoints at paths under prefix on mux, as an
// adapter's Mount does on a router or group.
func mount(mux *http.ServeMux, prefix string, p *provider.Provider, paths provider.RoutePaths) {
	for _, rt := range p.Routes(paths) {
		mux.Handle(prefix+rt.Path, rt.Handler)
	}
}

func TestMountDefaultPaths(t *testing.T) {
	adaptertest.TestMountDefaultPaths(t, func(p *provider.Provider) http.Handler {
		mux := http.NewServeMux()
		mount(mux, "", p, provider.RoutePaths{})
		mux.Handle("GET /me", policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})))
		return mux
	})
}

func TestMountPaths(t *testing.T) {
	adaptertest.TestMountPaths(t, func(p *provider.Provider, paths provider.RoutePaths) http.Handler {
		mux := http.NewServeMux()
		mount(mux, "/auth", p, paths)
		return mux
	})
}

func TestMiddleware(t *testing.T) {
	adaptertest.TestMiddleware(t, "net/http", func(p *provider.Provider) adaptertest.Router {
		reached, after := new(int), new(int)
		mux := http.NewServeMux()
		mount(mux, "", p, provider.RoutePaths{})
		api := func(h http.Handler) http.Handler {
			return policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				*after++
				h.ServeHTTP(w, r)
			}))
		}
		me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*reached++
			id, ok := policy.IdentityFrom(r.Context())
			if !ok {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"user_id": id.UserID, "client_id": id.ClientID, "scope": id.Scopes, "auth": id.Method})
		})
		mux.Handle("GET /api/me", api(me))
		mux.Handle("GET /api/notes", api(policy.Require("write")(me)))
		return adaptertest.Router{Handler: mux, Reached: reached, After: after}
	})
}

func TestCookieOrBearer(t *testing.T) {
	adaptertest.TestCookieOrBearer(t, func(s *policy.Sessions) (http.Handler, *int) {
		reached := new(int)
		mux := http.NewServeMux()
		mux.Handle("POST /login", s.LoginHandler())
		mux.Handle("/me", policy.CookieOrBearer(s)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*reached++
			id, _ := policy.IdentityFrom(r.Context())
			_, _ = w.Write([]byte(id.Method + " " + id.UserID))
		})))
		return mux, reached
	})
}
