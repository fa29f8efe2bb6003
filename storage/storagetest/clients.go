package storagetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/gate"
	"github.com/oauth2provider/oauth2provider/storage"
)

// clientClauses check storage.ClientStore.
var clientClauses = []clause{
	{"CreateGetRoundTrip", testClientRoundTrip},
	{"CreateDuplicateIsAlreadyExists", testClientDuplicate},
	{"GetUnknownIsNotFound", testClientUnknown},
	{"CreateWithoutIDFails", testClientNoID},
	{"UpdateReplaces", testClientUpdate},
	{"UpdateUnknownIsNotFound", testClientUpdateUnknown},
	{"RevisionCountsWrites", testClientRevision},
	{"UpdateStaleRevisionIsConflict", testClientStale},
	{"UpdateRevisionZeroIsUnconditional", testClientRevisionZero},
	{"UpdateUnknownIsNotFoundWhateverTheRevision", testClientUpdateUnknownRevision},
	{"ConcurrentUpdatesOfOneRevisionOneWins", testClientConcurrentUpdates},
	{"ConcurrentCreatesOfOneIDOneWins", testClientConcurrentCreates},
	{"ListOrderedByID", testClientList},
	{"ValuesAreCopies", testClientCopies},
	{"ViewClientSeesWhatGetClientDoes", testClientView},
	{"UpdateWithoutIDIsErrNoClientID", testClientUpdateNoID},
	{"TextIsKeptOrRefusedNeverChanged", testClientNonUTF8},
	{"CreatedAtKeptWhateverTheYear", testClientCreatedAtYears},
	{"EmptyListsReadBackNil", testClientEmptyLists},
	{"UpdateUnknownIsNotFoundWhateverItsText", testClientUpdateUnknownBadText},
}

// fullClient returns a confidential client with every field set; its
// CreatedAt has a sub-second part.
func (e *env) fullClient(id string) *storage.Client {
	return &storage.Client{
		ID:            id,
		SecretHash:    storage.HashGeneratedSecret("secret-of-" + id),
		GrantTypes:    []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantAuthorizationCode},
		Scopes:        []string{"read", "write", "admin"},
		DefaultScopes: []string{"read"},
		RedirectURIs:  []string{"https://app.example/cb", "http://127.0.0.1:8080/cb"},
		FirstParty:    true,
		CreatedAt:     e.clk.Now().Add(-time.Hour + 123456789*time.Nanosecond),
	}
}

// assertClient checks every field of got against want.
func assertClient(t *testing.T, want, got *storage.Client) {
	t.Helper()
	require.NotNil(t, got, "client")
	assert.Equal(t, want.ID, got.ID, "Client.ID")
	assert.Equal(t, want.SecretHash, got.SecretHash, "Client.SecretHash")
	sameList(t, want.GrantTypes, got.GrantTypes, "Client.GrantTypes")
	sameList(t, want.Scopes, got.Scopes, "Client.Scopes")
	sameList(t, want.DefaultScopes, got.DefaultScopes, "Client.DefaultScopes")
	sameList(t, want.RedirectURIs, got.RedirectURIs, "Client.RedirectURIs")
	assert.Equal(t, want.Public, got.Public, "Client.Public")
	assert.Equal(t, want.FirstParty, got.FirstParty, "Client.FirstParty")
	assert.Equal(t, want.Disabled, got.Disabled, "Client.Disabled")
	sameTime(t, want.CreatedAt, got.CreatedAt, "Client.CreatedAt")
}

func testClientRoundTrip(t *testing.T, e *env) {
	confidential := e.fullClient("confidential")
	public := &storage.Client{
		ID:         "public",
		GrantTypes: []string{storage.GrantAuthorizationCode},
		Public:     true,
		Disabled:   true,
		CreatedAt:  e.clk.Now().Add(987654321 * time.Nanosecond),
	}
	for _, c := range []*storage.Client{confidential, public} {
		require.NoError(t, e.b.Clients.CreateClient(e.ctx, c), "CreateClient(%s)", c.ID)
	}
	for _, want := range []*storage.Client{confidential, public} {
		got, err := e.b.Clients.GetClient(e.ctx, want.ID)
		require.NoError(t, err, "GetClient(%s)", want.ID)
		assertClient(t, want, got)
	}
	got, err := e.b.Clients.GetClient(e.ctx, confidential.ID)
	require.NoError(t, err)
	assert.True(t, got.VerifySecret("secret-of-confidential"), "the stored secret hash still verifies")
}

func testClientDuplicate(t *testing.T, e *env) {
	first := e.fullClient("dup")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, first))
	second := e.fullClient("dup")
	second.Scopes = []string{"other"}
	second.Disabled = true
	assert.ErrorIs(t, e.b.Clients.CreateClient(e.ctx, second), storage.ErrAlreadyExists)
	got, err := e.b.Clients.GetClient(e.ctx, "dup")
	require.NoError(t, err)
	assertClient(t, first, got) // the first one is untouched
}

func testClientUnknown(t *testing.T, e *env) {
	got, err := e.b.Clients.GetClient(e.ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, got)
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("somebody")))
	_, err = e.b.Clients.GetClient(e.ctx, "Somebody")
	assert.ErrorIs(t, err, storage.ErrNotFound, "client IDs are case-sensitive")
	// An ID no client can have (a request may carry any bytes) is not
	// found, not an error: a store error reads as an outage (503).
	for _, id := range []string{"a\x00b", "\xff", "a\xc3", strings.Repeat("x", 10000)} {
		_, err = e.b.Clients.GetClient(e.ctx, id)
		assert.ErrorIs(t, err, storage.ErrNotFound, "%q", id)
	}
}

func testClientUpdate(t *testing.T, e *env) {
	c := e.fullClient("upd")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, c))

	updated := e.fullClient("upd")
	updated.SecretHash = storage.HashGeneratedSecret("rotated")
	updated.GrantTypes = []string{storage.GrantClientCredentials}
	updated.Scopes = []string{"read"}
	updated.DefaultScopes = nil
	updated.RedirectURIs = []string{"https://new.example/cb"}
	updated.FirstParty = false
	updated.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, updated))
	got, err := e.b.Clients.GetClient(e.ctx, "upd")
	require.NoError(t, err, "a disabled client is still returned")
	assertClient(t, updated, got)

	updated.Disabled = false
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, updated))
	got, err = e.b.Clients.GetClient(e.ctx, "upd")
	require.NoError(t, err)
	assert.False(t, got.Disabled, "re-enabled")
}

func testClientUpdateUnknown(t *testing.T, e *env) {
	assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, e.fullClient("ghost")), storage.ErrNotFound)
	_, err := e.b.Clients.GetClient(e.ctx, "ghost")
	assert.ErrorIs(t, err, storage.ErrNotFound, "update does not create")
}

// testClientRevision checks that a client's revision is 1 once created,
// whatever the created value held, and one more after each update, as
// returned by every read and set on the value written.
func testClientRevision(t *testing.T, e *env) {
	c := e.fullClient("rev")
	c.Revision = 42 // ignored: the store counts
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, c))
	assert.Equal(t, int64(1), c.Revision, "CreateClient sets the revision it stored")
	e.assertRevision(t, "rev", 1)

	for want := int64(2); want <= 4; want++ {
		got, err := e.b.Clients.GetClient(e.ctx, "rev")
		require.NoError(t, err)
		got.Scopes = append(got.Scopes, fmt.Sprintf("s%d", want))
		require.NoError(t, e.b.Clients.UpdateClient(e.ctx, got), "update of revision %d", want-1)
		assert.Equal(t, want, got.Revision, "UpdateClient sets the revision it stored")
		e.assertRevision(t, "rev", want)
	}
	// The client passed to a successful update can be updated again.
	c, err := e.b.Clients.GetClient(e.ctx, "rev")
	require.NoError(t, err)
	c.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, c))
	c.Disabled = false
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, c))
	assert.Equal(t, int64(6), c.Revision)
	e.assertRevision(t, "rev", 6)
}

// assertRevision checks the revision of client id as GetClient,
// ListClients and, for a storage.ClientViewer, ViewClient return it.
func (e *env) assertRevision(t *testing.T, id string, want int64) {
	t.Helper()
	got, err := e.b.Clients.GetClient(e.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, want, got.Revision, "GetClient's revision")
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	found := false
	for _, c := range list {
		if c.ID == id {
			found = true
			assert.Equal(t, want, c.Revision, "ListClients' revision")
		}
	}
	assert.True(t, found, "ListClients returns %s", id)
	if v, ok := e.b.Clients.(storage.ClientViewer); ok {
		got, err := v.ViewClient(e.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, got.Revision, "ViewClient's revision")
	}
}

// testClientStale checks that an update with a revision that is no longer
// the stored one is refused with ErrConflict and changes nothing.
func testClientStale(t *testing.T, e *env) {
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("stale")))
	first, err := e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)
	second, err := e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)

	first.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, first))
	want, err := e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)

	second.SecretHash = storage.HashGeneratedSecret("rotated")
	second.Scopes = []string{"other"}
	err = e.b.Clients.UpdateClient(e.ctx, second)
	require.ErrorIs(t, err, storage.ErrConflict, "the client changed since second read it")
	assert.NotErrorIs(t, err, storage.ErrNotFound)
	assert.Equal(t, int64(1), second.Revision, "a refused update leaves the caller's revision")
	got, err := e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)
	assertClient(t, want, got) // still disabled, old secret
	assert.True(t, got.Disabled, "the disable stays")
	assert.Equal(t, int64(2), got.Revision, "a refused update is not counted")

	for _, rev := range []int64{3, 100, -1} { // ahead of the store, or never valid
		second.Revision = rev
		assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, second), storage.ErrConflict, "revision %d", rev)
	}
	got, err = e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)
	assertClient(t, want, got)
	assert.Equal(t, int64(2), got.Revision)

	// Read again, the update goes through.
	again, err := e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)
	again.SecretHash = second.SecretHash
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, again))
	got, err = e.b.Clients.GetClient(e.ctx, "stale")
	require.NoError(t, err)
	assertClient(t, again, got)
	assert.True(t, got.Disabled)
	assert.Equal(t, int64(3), got.Revision)
}

// testClientRevisionZero checks that an update with revision 0 replaces
// the client whatever its revision, and still counts the write.
func testClientRevisionZero(t *testing.T, e *env) {
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("zero")))
	c, err := e.b.Clients.GetClient(e.ctx, "zero")
	require.NoError(t, err)
	c.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, c)) // now revision 2

	blind := e.fullClient("zero")
	blind.Scopes = []string{"blind"}
	require.Zero(t, blind.Revision)
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, blind))
	assert.Equal(t, int64(3), blind.Revision, "UpdateClient sets the revision it stored")
	got, err := e.b.Clients.GetClient(e.ctx, "zero")
	require.NoError(t, err)
	assertClient(t, blind, got)
	assert.Equal(t, int64(3), got.Revision)
}

// testClientUpdateUnknownRevision checks that an update of a client that
// does not exist is ErrNotFound, not ErrConflict, whatever its revision.
func testClientUpdateUnknownRevision(t *testing.T, e *env) {
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("known")))
	for _, rev := range []int64{0, 1, 2, 7, -1} {
		c := e.fullClient("ghost")
		c.Revision = rev
		err := e.b.Clients.UpdateClient(e.ctx, c)
		assert.ErrorIs(t, err, storage.ErrNotFound, "revision %d", rev)
		assert.NotErrorIs(t, err, storage.ErrConflict, "revision %d", rev)
		assert.Equal(t, rev, c.Revision, "a refused update leaves the caller's revision")
	}
	_, err := e.b.Clients.GetClient(e.ctx, "ghost")
	assert.ErrorIs(t, err, storage.ErrNotFound, "update does not create")
}

// testClientConcurrentUpdates runs updates of one revision at once, each
// writing a different value: exactly one succeeds, the others get
// ErrConflict, and the stored client is the winner's. It runs a few
// rounds, each from the revision the last one left, to give a store that
// compares and writes in two steps more chances to be caught.
func testClientConcurrentUpdates(t *testing.T, e *env) {
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("race")))
	const n, rounds = 8, 5
	for round := range rounds {
		clients := make([]*storage.Client, n)
		for i := range n {
			c, err := e.b.Clients.GetClient(e.ctx, "race")
			require.NoError(t, err)
			require.Equal(t, int64(round+1), c.Revision)
			c.SecretHash = storage.HashGeneratedSecret(fmt.Sprintf("secret-%d-%d", round, i))
			c.Scopes = []string{fmt.Sprintf("scope-%d-%d", round, i)}
			c.Disabled = i%2 == 0
			clients[i] = c
		}
		errs := gate.AtOnce(n, func(i int) error { return e.b.Clients.UpdateClient(e.ctx, clients[i]) })
		winner := soleWinner(t, errs, storage.ErrConflict, fmt.Sprintf("round %d: update", round))
		require.NotEqual(t, -1, winner, "round %d: one update succeeds", round)
		got, err := e.b.Clients.GetClient(e.ctx, "race")
		require.NoError(t, err)
		assertClient(t, clients[winner], got)
		assert.True(t, got.VerifySecret(fmt.Sprintf("secret-%d-%d", round, winner)), "round %d: the winner's secret", round)
		require.Equal(t, int64(round+2), got.Revision, "round %d: one write counted", round)
	}
}

// testClientConcurrentCreates creates one ID from several callers at
// once, each with its own secret: exactly one succeeds, the others get
// ErrAlreadyExists, and the stored client is the winner's (a store that
// looks for the ID and writes in two steps lets a second create replace
// the first, whose caller holds a secret that no longer works). Each
// round is a new ID.
func testClientConcurrentCreates(t *testing.T, e *env) {
	const n, rounds = 8, 20
	for round := range rounds {
		id := fmt.Sprintf("created-%d", round)
		clients := make([]*storage.Client, n)
		for i := range clients {
			clients[i] = e.fullClient(id)
			clients[i].SecretHash = storage.HashGeneratedSecret(fmt.Sprintf("secret-%d-%d", round, i))
		}
		errs := gate.AtOnce(n, func(i int) error { return e.b.Clients.CreateClient(e.ctx, clients[i]) })
		winner := soleWinner(t, errs, storage.ErrAlreadyExists, fmt.Sprintf("round %d: create", round))
		require.NotEqual(t, -1, winner, "round %d: one create succeeds", round)
		got, err := e.b.Clients.GetClient(e.ctx, id)
		require.NoError(t, err)
		assert.True(t, got.VerifySecret(fmt.Sprintf("secret-%d-%d", round, winner)), "round %d: the winner's secret", round)
		assert.Equal(t, int64(1), got.Revision, "round %d: one write", round)
	}
}

func testClientList(t *testing.T, e *env) {
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, list, "a fresh store has no clients")

	for _, id := range []string{"charlie", "alpha", "delta", "bravo"} {
		require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient(id)))
	}
	list, err = e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	assert.Equal(t, []string{"alpha", "bravo", "charlie", "delta"}, ids)
	for _, c := range list {
		assertClient(t, e.fullClient(c.ID), c)
	}
}

func testClientCopies(t *testing.T, e *env) {
	c := e.fullClient("copy")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, c))
	c.Scopes[0] = "mutated-after-create"
	c.Disabled = true

	got, err := e.b.Clients.GetClient(e.ctx, "copy")
	require.NoError(t, err)
	assertClient(t, e.fullClient("copy"), got)
	got.Scopes[0] = "mutated-after-get"
	got.GrantTypes = append(got.GrantTypes[:0], storage.GrantClientCredentials)
	got.Disabled = true

	again, err := e.b.Clients.GetClient(e.ctx, "copy")
	require.NoError(t, err)
	assertClient(t, e.fullClient("copy"), again)

	// ListClients returns copies too.
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	list[0].Scopes[0] = "mutated-after-list"
	list[0].SecretHash = ""
	list[0].Disabled = true
	again, err = e.b.Clients.GetClient(e.ctx, "copy")
	require.NoError(t, err)
	assertClient(t, e.fullClient("copy"), again)
}

// testClientView checks ViewClient, when the store is a
// storage.ClientViewer: it finds what GetClient finds, and a client viewed
// before an update is not changed by it.
func testClientView(t *testing.T, e *env) {
	v, ok := e.b.Clients.(storage.ClientViewer)
	if !ok {
		t.Skip("the client store is no storage.ClientViewer")
	}
	_, err := v.ViewClient(e.ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)

	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("view")))
	before, err := v.ViewClient(e.ctx, "view")
	require.NoError(t, err)
	assertClient(t, e.fullClient("view"), before)

	updated := e.fullClient("view")
	updated.Scopes = []string{"other"}
	updated.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, updated))
	after, err := v.ViewClient(e.ctx, "view")
	require.NoError(t, err, "a disabled client is still returned")
	assertClient(t, updated, after)
	assertClient(t, e.fullClient("view"), before) // what was viewed stays as it was
}

// testClientNoID checks that a client without an ID is refused: the empty
// ID names no registered client (sessions are grants of no client, see
// provider.SessionClientID), so a store must never hold one.
func testClientNoID(t *testing.T, e *env) {
	c := e.fullClient("")
	require.ErrorIs(t, e.b.Clients.CreateClient(e.ctx, c), storage.ErrNoClientID)
	_, err := e.b.Clients.GetClient(e.ctx, "")
	assert.ErrorIs(t, err, storage.ErrNotFound)
}

func testClientUpdateNoID(t *testing.T, e *env) {
	assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, e.fullClient("")), storage.ErrNoClientID)
	assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, nil), storage.ErrNoClientID)
}

// A client with text that is not valid UTF-8 comes back as it was
// written, or is refused: a store never changes it.
func testClientNonUTF8(t *testing.T, e *env) {
	// Each text field on its own, at creation and at an update: a store
	// that checks some fields must not let another's bad bytes through
	// unchecked, and a refused creation must not hide the update's case.
	fields := []struct {
		name string
		set  func(c *storage.Client)
	}{
		{"SecretHash", func(c *storage.Client) { c.SecretHash = "h\xff" }},
		{"GrantTypes", func(c *storage.Client) { c.GrantTypes = append(c.GrantTypes, "g\xff") }},
		{"Scopes", func(c *storage.Client) { c.Scopes = []string{"s\xff"} }},
		{"DefaultScopes", func(c *storage.Client) { c.DefaultScopes = []string{"d\xff"} }},
		{"RedirectURIs", func(c *storage.Client) { c.RedirectURIs = []string{"https://a.example/\xff"} }},
	}
	// created checks that c is created as it is, or refused whole.
	created := func(t *testing.T, c *storage.Client) {
		t.Helper()
		if err := e.b.Clients.CreateClient(e.ctx, c); err != nil {
			_, err := e.b.Clients.GetClient(e.ctx, c.ID)
			assert.ErrorIs(t, err, storage.ErrNotFound, "refused whole")
			return
		}
		got, err := e.b.Clients.GetClient(e.ctx, c.ID)
		require.NoError(t, err)
		assertClient(t, c, got)
	}
	t.Run("ID", func(t *testing.T) { created(t, e.fullClient("caf\xe9")) })
	for i, f := range fields {
		t.Run("create/"+f.name, func(t *testing.T) {
			c := e.fullClient(fmt.Sprintf("create-%d", i))
			f.set(c)
			created(t, c)
		})
		t.Run("update/"+f.name, func(t *testing.T) {
			ok := e.fullClient(fmt.Sprintf("update-%d", i))
			require.NoError(t, e.b.Clients.CreateClient(e.ctx, ok))
			stored, err := e.b.Clients.GetClient(e.ctx, ok.ID)
			require.NoError(t, err)
			changed := *stored
			f.set(&changed)
			if err := e.b.Clients.UpdateClient(e.ctx, &changed); err != nil {
				got, err := e.b.Clients.GetClient(e.ctx, ok.ID)
				require.NoError(t, err)
				assertClient(t, ok, got) // refused whole: the stored client unchanged
				return
			}
			got, err := e.b.Clients.GetClient(e.ctx, ok.ID)
			require.NoError(t, err)
			assertClient(t, &changed, got)
		})
	}
}

// testClientCreatedAtYears checks that a client's CreatedAt comes back as
// it was written (to the microsecond), by every read and after an update,
// for years far from now too (a client imported with a placeholder date):
// a store never changes it.
func testClientCreatedAtYears(t *testing.T, e *env) {
	times := []time.Time{
		time.Date(1600, 7, 1, 12, 0, 0, 123456000, time.UTC),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC),
		time.Date(2500, 1, 1, 0, 0, 0, 500000000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	for i, created := range times {
		id := fmt.Sprintf("year-%d", created.Year())
		c := e.fullClient(id)
		c.CreatedAt = created
		require.NoError(t, e.b.Clients.CreateClient(e.ctx, c), "CreateClient(%s)", id)
		got, err := e.b.Clients.GetClient(e.ctx, id)
		require.NoError(t, err)
		sameTime(t, created, got.CreatedAt, "GetClient's CreatedAt of "+id)

		later := created.Add(time.Duration(i+1) * time.Second)
		got.CreatedAt = later
		require.NoError(t, e.b.Clients.UpdateClient(e.ctx, got), "UpdateClient(%s)", id)
		got, err = e.b.Clients.GetClient(e.ctx, id)
		require.NoError(t, err)
		sameTime(t, later, got.CreatedAt, "CreatedAt of "+id+" after an update")
	}
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	require.Len(t, list, len(times))
	for i, c := range list {
		sameTime(t, times[i].Add(time.Duration(i+1)*time.Second), c.CreatedAt, "ListClients' CreatedAt of "+c.ID)
	}
}

// testClientEmptyLists checks that an empty list of a client reads back as
// nil, whether it was written nil or empty, from every read: the records
// use nil for "none", and a caller that encodes a client (JSON: null or
// []) or compares it must not see the backend.
func testClientEmptyLists(t *testing.T, e *env) {
	empty := func(id string) *storage.Client {
		return &storage.Client{ID: id, SecretHash: storage.HashGeneratedSecret(id), GrantTypes: []string{}, Scopes: []string{},
			DefaultScopes: []string{}, RedirectURIs: []string{}, CreatedAt: e.clk.Now()}
	}
	check := func(c *storage.Client, from string) {
		t.Helper()
		assert.Nil(t, c.GrantTypes, "%s: GrantTypes", from)
		assert.Nil(t, c.Scopes, "%s: Scopes", from)
		assert.Nil(t, c.DefaultScopes, "%s: DefaultScopes", from)
		assert.Nil(t, c.RedirectURIs, "%s: RedirectURIs", from)
	}
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, empty("empty")))
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, &storage.Client{ID: "nil", Public: true, CreatedAt: e.clk.Now()}))
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("updated")))
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, empty("updated")))
	for _, id := range []string{"empty", "nil", "updated"} {
		got, err := e.b.Clients.GetClient(e.ctx, id)
		require.NoError(t, err)
		check(got, "GetClient("+id+")")
		if v, ok := e.b.Clients.(storage.ClientViewer); ok {
			got, err := v.ViewClient(e.ctx, id)
			require.NoError(t, err)
			check(got, "ViewClient("+id+")")
		}
	}
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	for _, c := range list {
		check(c, "ListClients: "+c.ID)
	}
}

// testClientUpdateUnknownBadText checks that an update of a client that
// does not exist is ErrNotFound even when the client has text the store
// would refuse to hold (invalid UTF-8, a NUL byte), in any of its text
// fields or in its ID: there is no such client, whatever c holds. (A
// SecretHash of such text is in no readable form: the store refuses it
// before it looks, with storage.ErrInvalidSecretHash; see
// testSecretHashUpdateRefused.)
func testClientUpdateUnknownBadText(t *testing.T, e *env) {
	// Another client exists: the update must look for this one.
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("somebody")))
	for _, bad := range []string{"s\xff", "s\x00"} {
		for _, f := range []struct {
			field string
			set   func(c *storage.Client)
		}{
			{"ID", func(c *storage.Client) { c.ID = "ghost" + bad }},
			{"GrantTypes", func(c *storage.Client) { c.GrantTypes = []string{storage.GrantRefreshToken, bad} }},
			{"Scopes", func(c *storage.Client) { c.Scopes = []string{"read", bad} }},
			{"DefaultScopes", func(c *storage.Client) { c.DefaultScopes = []string{"read", bad} }},
			{"RedirectURIs", func(c *storage.Client) { c.RedirectURIs = []string{"https://a.example/cb", bad} }},
		} {
			c := e.fullClient("ghost")
			f.set(c)
			err := e.b.Clients.UpdateClient(e.ctx, c)
			assert.ErrorIs(t, err, storage.ErrNotFound, "%s %q", f.field, bad)
			_, err = e.b.Clients.GetClient(e.ctx, "ghost")
			assert.ErrorIs(t, err, storage.ErrNotFound, "update does not create")
		}
	}
}
