package redis

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// decScopes splits plain scope lists itself and hands the rest to
// encoding/json; either way it returns what json.Unmarshal would, and
// keeps nil (stored "") apart from empty.
func TestDecScopes(t *testing.T) {
	for _, v := range []string{
		`[]`, `[""]`, `["read"]`, `["read","write"]`, `["a b","c:d/e?f=g"]`,
		`["\u003cadmin\u003e"]`, `["caf\u00e9"]`, `["café"]`, `["a\"b"]`, `["a\\b"]`,
		`[ "read" ]`, `["read", "write"]`,
	} {
		var want []string
		require.NoError(t, json.Unmarshal([]byte(v), &want), v)
		got, err := decScopes(v)
		require.NoError(t, err, v)
		assert.Equal(t, want, got, v)
		assert.NotNil(t, got, v)
	}
	for _, v := range []string{`[`, `]`, `["read"`, `["read",]`, `["read" "write"]`, `[read]`, `{}`, `"read"`, `["a"]x`, `[,]`, "[\"a\tb\"]"} {
		_, err := decScopes(v)
		assert.Error(t, err, v)
	}
	got, err := decScopes("")
	require.NoError(t, err)
	assert.Nil(t, got)

	// A plain list costs its slice alone (encoding/json takes several).
	allocs := testing.AllocsPerRun(100, func() { _, _ = decScopes(`["read","write"]`) })
	assert.LessOrEqual(t, allocs, 1.0)
}

// FuzzDecScopes: whatever a field holds (a corrupted or tampered store),
// decScopes reads it as json.Unmarshal reads it into a []string, errors
// included, with "" (nil scopes) alone read otherwise; its shortcut
// changes nothing.
func FuzzDecScopes(f *testing.F) {
	for _, v := range []string{`[]`, `[""]`, `["read","write"]`, `["a\"b"]`, `[ "read" ]`, `["a",]`, `["a""b"]`, `["a"],`,
		`null`, `["\u0000"]`, "[\"a\x7f\"]", "[\"\x00\"]", `["a"]["b"]`, `[`, `]`, `[",]`, `["a","`, `{}`, `[1]`, `["a" , "b"]`} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := decScopes(v)
		if v == "" {
			if got != nil || err != nil {
				t.Fatalf(`decScopes("") = %q, %v`, got, err)
			}
			return
		}
		want := []string{}
		werr := json.Unmarshal([]byte(v), &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("decScopes(%q): %v; json.Unmarshal: %v", v, err, werr)
		}
		if err == nil && (!slices.Equal(got, want) || (got == nil) != (want == nil)) {
			t.Fatalf("decScopes(%q) = %#v, json.Unmarshal: %#v", v, got, want)
		}
	})
}

// Round trip through encScopes, including the escapes json.Marshal makes:
// scopes come back exactly as they were, or encScopes refuses them, only
// when one is not valid UTF-8 (which encoding/json would change).
func FuzzScopes(f *testing.F) {
	f.Add("read", "write")
	f.Add("<a>", "é")
	f.Add("", "\x00")
	f.Add("caf\xe9", "ok")
	f.Fuzz(func(t *testing.T, a, b string) {
		enc, err := encScopes([]string{a, b})
		if err != nil {
			require.ErrorIs(t, err, errNotUTF8)
			require.False(t, utf8.ValidString(a) && utf8.ValidString(b), "refused valid UTF-8")
			return
		}
		var want []string
		require.NoError(t, json.Unmarshal([]byte(enc), &want))
		got, err := decScopes(enc)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, []string{a, b}, got, "exactly as written")
	})
}

// FuzzDecodeClient: a client reads back from its JSON exactly as it was
// written (CreatedAt as the same instant, whatever its year), and any
// bytes Redis hands back either fail to decode or decode to a client that
// round-trips unchanged.
func FuzzDecodeClient(f *testing.F) {
	f.Add("web", "sha256$00", "read", "https://app.example/cb", true, int64(1_700_000_000), int64(5), int64(3), []byte(`{"id":"x","created_at":"1.000000001"}`))
	f.Add("", "", "", "", false, int64(16725225600), int64(0), int64(0), []byte(`{"id":"x","created_at":"+1.+00000001"}`))
	f.Add("é", "\x00", "<a>", "x", false, int64(-62135596800), int64(999999999), int64(-1), []byte(`{"created_at":"-1.000000000","revision":-5}`))
	f.Add("a", "b", "c", "d", true, int64(math.MaxInt64), int64(0), int64(1), []byte(`{"created_at":"9223372036854775807.000000000"}`))
	f.Fuzz(func(t *testing.T, id, secret, sc, uri string, flag bool, sec, nsec, revision int64, raw []byte) {
		c := &storage.Client{ID: id, SecretHash: secret, GrantTypes: []string{sc}, Scopes: []string{sc, id},
			RedirectURIs: []string{uri}, Public: flag, Disabled: !flag, CreatedAt: time.Unix(sec, nsec%1e9).UTC()}
		if revision <= 0 {
			revision = 1
		}
		b, err := encodeClient(c, newWriteID(), revision)
		if err != nil {
			require.ErrorIs(t, err, errNotUTF8)
			require.False(t, allUTF8([]string{id, secret, sc, uri}), "refused valid UTF-8")
		} else {
			got, err := decodeClient(b)
			require.NoError(t, err)
			require.True(t, got.CreatedAt.Equal(c.CreatedAt), "CreatedAt %v read back as %v (%s)", c.CreatedAt, got.CreatedAt, b)
			got.CreatedAt, c.Revision = c.CreatedAt, revision
			assert.Equal(t, c, got)
		}

		got, err := decodeClient(raw)
		if err != nil {
			return
		}
		b, err = encodeClient(got, "", got.Revision)
		require.NoError(t, err, "%+v", got)
		again, err := decodeClient(b)
		require.NoError(t, err)
		require.True(t, again.CreatedAt.Equal(got.CreatedAt), "CreatedAt %v read back as %v (%s)", got.CreatedAt, again.CreatedAt, b)
		again.CreatedAt = got.CreatedAt
		assert.Equal(t, got, again)
	})
}

// FuzzDecodeGrant: a grant reads back from its stored fields as it was
// written, and any fields Redis hands back either fail to decode or
// decode to a grant that round-trips unchanged.
func FuzzDecodeGrant(f *testing.F) {
	f.Add("web", "u1", "read", "fp", "https://app.example/cb", "S256", int64(1_700_000_000_000_000_000), true,
		"c", "u", `["a"]`, "", "1", `{"redirect_uri":"x"}`, "n", "2")
	f.Add("", "", "", "", "", "", int64(0), false, "", "", "", "", "", "null", "", "")
	f.Add("\xff", "", "", "", "", "", int64(-1), true, "", "", "[", "", "x", "{", "", "")
	f.Fuzz(func(t *testing.T, client, user, sc, binding, uri, method string, ns int64, code bool,
		v0, v1, v2, v4, v5, v6, v7, v8 string) {
		g := &storage.Grant{ID: "gid", ClientID: client, UserID: user, Scopes: []string{sc}, Binding: binding,
			CreatedAt: time.Unix(0, ns).UTC(), ExpiresAt: time.Unix(0, ns/2+ns/3).UTC(), Username: user + client}
		if code {
			g.Code = &storage.CodeBinding{RedirectURI: uri, Challenge: sc, ChallengeMethod: method}
		}
		if v, err := appendGrant(nil, g); err != nil {
			require.ErrorIs(t, err, errNotUTF8)
		} else {
			var got storage.Grant
			require.NoError(t, decodeGrant(&got, g.ID, append(v, instant(g.ExpiresAt))))
			// The expiry is an instant the scripts compare, clamped to
			// 1970 and later: a grant that expired before is as expired.
			g.ExpiresAt = time.Unix(0, instantNanos(g.ExpiresAt)).UTC()
			assert.Equal(t, g, &got)
		}

		var got storage.Grant
		if decodeGrant(&got, "gid", []string{v0, v1, v2, v4, v5, v6, v7, v8}) != nil {
			return
		}
		v, err := appendGrant(nil, &got)
		if err != nil {
			return // read from a record no store of ours writes (times, UTF-8)
		}
		var again storage.Grant
		require.NoError(t, decodeGrant(&again, "gid", append(v, encTime(got.ExpiresAt))))
		assert.Equal(t, got, again)
	})
}
