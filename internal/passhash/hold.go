package passhash

// HoldSlots takes every argon2id slot, waiting for the ones in use, and
// returns the function that gives them back. While they are held every
// argon2id check waits: VerifyContext until its ctx ends. It is for the
// tests of callers that must give up waiting (a request whose client
// has gone); release must be called once.
func HoldSlots() (release func()) {
	for range cap(argon2Slots) {
		argon2Slots <- struct{}{}
	}
	return func() {
		for range cap(argon2Slots) {
			<-argon2Slots
		}
	}
}
