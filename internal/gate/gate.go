// Package gate starts calls together, for tests of what a store or a
// limiter does when they race.
package gate

import "sync"

// AtOnce calls call(i) for every i below n, each from its own goroutine,
// all released together, and returns
// their errors by i.
func AtOnce(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
