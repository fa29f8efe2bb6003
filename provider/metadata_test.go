package provider_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

func TestMetadataDocument(t *testing.T) {
	get := func(p *provider.Provider, method string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		p.MetadataHandler().ServeHTTP(w, httptest.NewRequest(method, "https://auth.example.com"+p.MetadataPath(), nil))
		return w
	}
	t.Run("RFC 8414 §2: exactly what the provider is configured to do", func(t *testing.T) {
		e := newEnv(t, withIssuer)
		w := get(e.p, http.MethodGet)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "application/json;charset=utf-8", w.Header().Get("Content-Type"))
		assert.Equal(t, "public, max-age=3600", w.Header().Get("Cache-Control"))
		assert.JSONEq(t, `{
			"issuer": "https://auth.example.com",
			"token_endpoint": "https://auth.example.com/oauth2/token",
			"revocation_endpoint": "https://auth.example.com/oauth2/revoke",
			"introspection_endpoint": "https://auth.example.com/oauth2/introspect",
			"grant_types_supported": ["password", "refresh_token", "client_credentials"],
			"response_types_supported": [],
			"token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
			"revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
			"introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
			"scopes_supported": ["read", "write", "admin", "profile"]
		}`, w.Body.String())
		assert.Equal(t, "/.well-known/oauth-authorization-server", e.p.MetadataPath())
	})
	t.Run("RFC 8414 §2: no users means no password grant; no scope list means no scopes_supported; left-out endpoints are not advertised", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) {
			c.Issuer = "https://auth.example.com/"
			c.Users = nil
			c.Scopes, c.DefaultScopes = nil, nil
			c.Endpoints = provider.Endpoints{Token: "/token", Revocation: provider.EndpointNotServed, Introspection: "/introspect"}
		})
		assert.JSONEq(t, `{
			"issuer": "https://auth.example.com/",
			"token_endpoint": "https://auth.example.com/token",
			"introspection_endpoint": "https://auth.example.com/introspect",
			"grant_types_supported": ["refresh_token", "client_credentials"],
			"response_types_supported": [],
			"token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
			"introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]
		}`, get(e.p, http.MethodGet).Body.String())
	})
	t.Run("RFC 8414 §2: a left-out introspection endpoint is not advertised", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) {
			c.Issuer = "https://auth.example.com/"
			c.Users = nil
			c.Scopes, c.DefaultScopes = nil, nil
			c.Endpoints = provider.Endpoints{Token: "/token", Revocation: "/revoke", Introspection: provider.EndpointNotServed}
		})
		assert.JSONEq(t, `{
			"issuer": "https://auth.example.com/",
			"token_endpoint": "https://auth.example.com/token",
			"revocation_endpoint": "https://auth.example.com/revoke",
			"grant_types_supported": ["refresh_token", "client_credentials"],
			"response_types_supported": [],
			"token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
			"revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"]
		}`, get(e.p, http.MethodGet).Body.String())
	})
	t.Run("RFC 8414 §3: an issuer with a path puts it after the well-known name", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) { c.Issuer = "https://example.com/tenant1" })
		assert.Equal(t, "/.well-known/oauth-authorization-server/tenant1", e.p.MetadataPath())
		m := body(t, get(e.p, http.MethodGet))
		assert.Equal(t, "https://example.com/tenant1/oauth2/token", m["token_endpoint"])
	})
	t.Run("RFC 8414 §3: HEAD has the headers and no body", func(t *testing.T) {
		w := get(newEnv(t, withIssuer).p, http.MethodHead)
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, w.Body.String())
		assert.NotEmpty(t, w.Header().Get("Content-Length"))
	})
	t.Run("RFC 8414 §3: GET only", func(t *testing.T) {
		w := get(newEnv(t, withIssuer).p, http.MethodPost)
		assertError(t, w, 405, "invalid_request")
		assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
	})
	t.Run("RFC 8414 §2: no issuer, no document", func(t *testing.T) {
		assertError(t, get(newEnv(t, nil).p, http.MethodGet), 404, "invalid_request")
	})
	t.Run("RFC 8414 §7.1: over plain HTTP, refused unless AllowInsecureHTTP", func(t *testing.T) {
		plain := func(p *provider.Provider) *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			p.MetadataHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://auth.example.com"+p.MetadataPath(), nil))
			return w
		}
		w := plain(newEnv(t, withIssuer).p)
		assertError(t, w, 400, "invalid_request")
		assert.Equal(t, "HTTPS is required", body(t, w)["error_description"])
		w = plain(newEnv(t, func(c *provider.Config) { withIssuer(c); c.AllowInsecureHTTP = true }).p)
		assert.Equal(t, http.StatusOK, w.Code)
	})
}

func TestMetadataConfigIsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*provider.Config)
	}{
		{"RFC 8414 §2: issuer with a query", func(c *provider.Config) { c.Issuer = "https://a.example?x=1" }},
		{"RFC 8414 §2: issuer with a fragment", func(c *provider.Config) { c.Issuer = "https://a.example#f" }},
		{"RFC 8414 §2: issuer without scheme", func(c *provider.Config) { c.Issuer = "a.example" }},
		{"RFC 8414 §2: issuer of another scheme", func(c *provider.Config) { c.Issuer = "ftp://a.example" }},
		{"RFC 8414 §2: issuer with an empty query", func(c *provider.Config) { c.Issuer = "https://a.example?" }},
		{"RFC 8414 §2: issuer with an empty fragment", func(c *provider.Config) { c.Issuer = "https://a.example#" }},
		{"issuer with user info", func(c *provider.Config) { c.Issuer = "https://user@a.example" }},
		{"issuer without a host", func(c *provider.Config) { c.Issuer = "https:///tenant" }},
		// RFC 8414 §2: the issuer uses https. Plain http only with
		// AllowInsecureHTTP, where the endpoints themselves serve it.
		{"RFC 8414 §2: http issuer without AllowInsecureHTTP", func(c *provider.Config) { c.Issuer = "http://a.example" }},
		{"RFC 8414 §2: http issuer of any case without AllowInsecureHTTP", func(c *provider.Config) { c.Issuer = "HTTP://a.example" }},
		{"endpoint path without a slash", func(c *provider.Config) { c.Endpoints.Revocation = "revoke" }},
		{"token endpoint cannot be left out", func(c *provider.Config) { c.Endpoints.Token = provider.EndpointNotServed }},
		{"issuer path with an escaped slash", func(c *provider.Config) { c.Issuer = "https://a.example/t%2Fa" }},
		{"issuer path with a space", func(c *provider.Config) { c.Issuer = "https://a.example/a%20b" }},
		{"issuer path with a pattern wildcard", func(c *provider.Config) { c.Issuer = "https://a.example/{id}" }},
		{"issuer path with a double slash", func(c *provider.Config) { c.Issuer = "https://a.example//" }},
		{"issuer path with a dot segment", func(c *provider.Config) { c.Issuer = "https://a.example/a/./b" }},
		// The endpoints' paths go after the issuer's, in the metadata's
		// URLs and in Routes' patterns: the same rules.
		{"endpoint path that needs escaping", func(c *provider.Config) { c.Endpoints.Revocation = "/oauth2/re voke" }},
		{"endpoint path with a percent sign", func(c *provider.Config) { c.Endpoints.Token = "/oauth2/t%2Fken" }},
		{"endpoint path with a pattern wildcard", func(c *provider.Config) { c.Endpoints.Introspection = "/oauth2/{x}" }},
		{"endpoint path with a double slash", func(c *provider.Config) { c.Endpoints.Token = "//token" }},
		{"endpoint path with a dot segment", func(c *provider.Config) { c.Endpoints.Authorization = "/a/../authorize" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStore(newClock().Now)
			cfg := provider.Config{Clients: st, Tokens: st}
			tc.cfg(&cfg)
			_, err := provider.New(cfg)
			assert.Error(t, err)
		})
	}
}

// The refusal of an http issuer says what to do about it, and an https
// issuer needs no AllowInsecureHTTP.
func TestMetadataHTTPIssuerNeedsAllowInsecureHTTP(t *testing.T) {
	st := newTestStore(newClock().Now)
	_, err := provider.New(provider.Config{Clients: st, Tokens: st, Issuer: "http://a.example"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid Issuer: an http issuer needs AllowInsecureHTTP")
	_, err = provider.New(provider.Config{Clients: st, Tokens: st, Issuer: "https://a.example"})
	assert.NoError(t, err)
}

// An http issuer is accepted, for development (with AllowInsecureHTTP),
// and its metadata advertises http endpoints.
func TestMetadataHTTPIssuerIsAccepted(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.Issuer = "http://localhost:8080"; c.AllowInsecureHTTP = true })
	w := httptest.NewRecorder()
	e.p.MetadataHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:8080"+e.p.MetadataPath(), nil))
	require.Equal(t, http.StatusOK, w.Code)
	m := body(t, w)
	assert.Equal(t, "http://localhost:8080", m["issuer"])
	assert.Equal(t, "http://localhost:8080/oauth2/token", m["token_endpoint"])
}

// TestMetadataEveryAdvertisedEndpointAndMethodWorks serves the provider
// over TLS, reads its metadata document, and calls every advertised
// endpoint with every advertised client authentication method.
func TestMetadataEveryAdvertisedEndpointAndMethodWorks(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e := newEnv(t, func(c *provider.Config) { c.Issuer = srv.URL })
	mux.Handle("POST /oauth2/token", e.p.TokenHandler())
	mux.Handle("POST /oauth2/revoke", e.p.RevokeHandler())
	mux.Handle("POST /oauth2/introspect", e.p.IntrospectHandler())
	mux.Handle("GET "+e.p.MetadataPath(), e.p.MetadataHandler())
	hc := srv.Client()

	resp, err := hc.Get(srv.URL + provider.WellKnownMetadataPath)
	require.NoError(t, err)
	var md struct {
		Issuer         string   `json:"issuer"`
		Token          string   `json:"token_endpoint"`
		Revocation     string   `json:"revocation_endpoint"`
		Introspection  string   `json:"introspection_endpoint"`
		GrantTypes     []string `json:"grant_types_supported"`
		TokenAuth      []string `json:"token_endpoint_auth_methods_supported"`
		RevocationAuth []string `json:"revocation_endpoint_auth_methods_supported"`
		IntrospectAuth []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	require.NoError(t, resp.Body.Close())
	require.Equal(t, srv.URL, md.Issuer)

	// post sends form to endpoint authenticating with method: conf's
	// secret for the secret methods, the public client pub for none.
	post := func(endpoint, method string, form url.Values) (int, map[string]any) {
		t.Helper()
		form = with(url.Values{}, flatten(form)...)
		var hdr string
		switch method {
		case "client_secret_basic":
			hdr = basicAuth("conf", confSecret)
		case "client_secret_post":
			form.Set("client_id", "conf")
			form.Set("client_secret", confSecret)
		case "none":
			form.Set("client_id", "pub")
		default:
			t.Fatalf("unknown advertised method %q", method)
		}
		r, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if hdr != "" {
			r.Header.Set("Authorization", hdr)
		}
		resp, err := hc.Do(r)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	for _, gt := range md.GrantTypes {
		for _, method := range md.TokenAuth {
			if gt == "client_credentials" && method == "none" {
				continue // RFC 6749 §4.4: confidential clients only, tested in token_test.go
			}
			t.Run("token endpoint: "+gt+" with "+method, func(t *testing.T) {
				status, m := post(md.Token, method, password())
				require.Equal(t, http.StatusOK, status, "%v", m)
				form := url.Values{"grant_type": {gt}}
				switch gt {
				case "password":
					form = password()
				case "refresh_token":
					form.Set("refresh_token", m["refresh_token"].(string))
				}
				status, m = post(md.Token, method, form)
				assert.Equal(t, http.StatusOK, status, "%v", m)
				assert.NotEmpty(t, m["access_token"])
			})
		}
	}
	for _, method := range md.IntrospectAuth {
		t.Run("introspection endpoint with "+method, func(t *testing.T) {
			_, m := post(md.Token, "client_secret_basic", password())
			status, got := post(md.Introspection, method, url.Values{"token": {m["access_token"].(string)}})
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, true, got["active"])
		})
	}
	for _, method := range md.RevocationAuth {
		t.Run("revocation endpoint with "+method, func(t *testing.T) {
			_, m := post(md.Token, method, password())
			at := m["access_token"].(string)
			status, _ := post(md.Revocation, method, url.Values{"token": {at}})
			assert.Equal(t, http.StatusOK, status)
			_, got := post(md.Introspection, "client_secret_basic", url.Values{"token": {at}})
			assert.Equal(t, false, got["active"], "revoked")
		})
	}
}

// flatten turns url.Values into key, value pairs for with.
func flatten(v url.Values) []string {
	var kv []string
	for k, vs := range v {
		kv = append(kv, k, vs[0])
	}
	return kv
}
