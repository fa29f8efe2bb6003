package postgres

// SetStrict makes s send every statement in an explicit read committed
// transaction, as it does once a statement failed to serialize (see
// Store.stricter), for tests of that path.
func SetStrict(s *Store) { s.strict.Store(true) }

// JanitorSQL are the statements of DeleteExpired, each with its
// parameters: $1 now, $2 the batch's limit.
var JanitorSQL = map[string]string{
	"expired grants": deleteExpiredGrantsSQL,
	"revoked grants": deleteRevokedGrantsSQL,
	"tokens":         deleteTokensSQL,
}

// Strict reports whether s sends every statement in an explicit read
// committed transaction (see Store.stricter).
func Strict(s *Store) bool { return s.strict.Load() }
