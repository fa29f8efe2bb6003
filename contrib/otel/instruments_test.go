package oauthotel_test

import (
	"errors"
	"net/http"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

var errInstrument = errors.New("no such instrument")

// failingMeter fails to make its first instrument only.
type failingMeter struct {
	noop.Meter
	made int
}

func (m *failingMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	if m.made++; m.made == 1 {
		return nil, errInstrument
	}
	return m.Meter.Int64Counter(name, opts...)
}

type failingMeterProvider struct{ noop.MeterProvider }

func (failingMeterProvider) Meter(string, ...metric.MeterOption) metric.Meter { return &failingMeter{} }

// New reports an instrument it could not make, even when the ones after
// it are made.
func TestNewReportsAnInstrumentItCannotMake(t *testing.T) {
	in, err := oauthotel.New(oauthotel.Config{MeterProvider: failingMeterProvider{}})
	assert.ErrorIs(t, err, errInstrument)
	assert.Nil(t, in)
}

// The duration histograms have the bounds documented: 100 µs to 10 s.
func TestDurationHistogramBounds(t *testing.T) {
	e := newEnv(t, 0)
	e.passwordGrant(t)
	m, ok := findMetric(e.collect(t), "oauth2.request.duration")
	require.True(t, ok)
	h := m.Data.(metricdata.Histogram[float64])
	require.NotEmpty(t, h.DataPoints)
	assert.Equal(t, []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		h.DataPoints[0].Bounds)
}

// Policy without a policy is a mistake of the wiring, caught at start.
func TestPolicyNeedsAPolicy(t *testing.T) {
	in, err := oauthotel.New(oauthotel.Config{MeterProvider: sdkmetric.NewMeterProvider()})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "oauthotel: Policy needs a policy", func() {
		in.Policy("bearer", (func(http.Handler) http.Handler)(nil))
	})
}
