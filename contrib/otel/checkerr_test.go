package oauthotel_test

import (
	"net/http"
	"net/url"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
)

// An exchange refused by the provider's Check (here a refresh with
// another user's user_id, 400 invalid_grant) is the client's mistake:
// the store worked, so it is no storage error and its span no error.
func TestExchangeCheckRefusalIsNoStorageError(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.passwordGrant(t)
	rec := e.post("/oauth2/token", clientID, clientSecret, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "user_id": {"someone-else"},
	})
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())

	assert.Zero(t, e.counterValue(t, "oauth2.storage.errors", oauthotel.AttrOperation.String("ExchangeToken")),
		"a refused exchange counted as a backend failure")
	spans := e.spansNamed("oauth2.storage ExchangeToken")
	require.Len(t, spans, 1)
	assert.NotEqual(t, codes.Error, spans[0].Status().Code)
	assert.NotEqual(t, oauthotel.OutcomeError, attrOf(spans[0], oauthotel.AttrOutcome))
}
