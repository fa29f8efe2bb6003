//go:build race

package provider

// raceDetector reports whether the race detector is on (raceEnabled, for
// the tests of package provider itself).
const raceDetector = true
