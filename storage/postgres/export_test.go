package postgres

// SetStrict makes s send every statement in an explicit read committed
// transaction, as it does once a statement failed to serialize (see
// Store.stricter), for tests of that path.
func SetStrict(s *Store) { s.strict.Store(true) }
