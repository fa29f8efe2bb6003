package wallclock

import (
	"syscall"
	"time"
)

// now reads the wall clock with gettimeofday, which Go's syscall package
// calls through the vDSO on linux/amd64 (on other platforms it can be a
// real system call, slower than time.Now).
func now() time.Time {
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		return time.Now().Round(0)
	}
	// Rounded up to the microsecond's last nanosecond, so that the time
	// is never earlier than the true one: an expiry check on it may
	// refuse a token up to a microsecond early, never accept one late.
	return time.Unix(tv.Sec, tv.Usec*int64(time.Microsecond/time.Nanosecond)+int64(time.Microsecond-1))
}
