package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/storage/redis"
)

// Query parameters of a redis URL that this package reads and takes out
// before go-redis parses the rest.
const (
	paramPrefix        = "prefix"
	paramLimiterPrefix = "limiter_prefix"
	// paramTLS=disable lets a redis:// URL reach a host beyond the
	// loopback interface without TLS (see ErrRedisTLSChoice).
	paramTLS = "tls"
)

// ErrRedisTLSChoice reports a redis:// URL for a host beyond the loopback
// interface that did not choose to go without TLS: the grants, the client
// secrets' hashes and the limiter's keys would cross the network in
// clear. rediss:// (or rediss+cluster://) uses TLS; tls=disable opts out.
var ErrRedisTLSChoice = errors.New("a redis:// URL for a host that is not on the loopback interface must choose: " +
	"rediss:// for TLS, or tls=disable to connect without it")

// requireRedisTLSChoice refuses plain connections to addrs (host:port)
// beyond the loopback interface unless tls is "disable"; scheme is
// "redis" or "rediss".
func requireRedisTLSChoice(scheme, tls string, addrs []string) error {
	switch {
	case tls != "" && tls != "disable":
		return errors.New(`tls= takes only "disable"`)
	case tls == "disable" && scheme == "rediss":
		return errors.New("tls=disable contradicts rediss://")
	case tls == "disable" || scheme == "rediss":
		return nil
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		if !loopback.Host(host) {
			return ErrRedisTLSChoice
		}
	}
	return nil
}

// RedisOptions parses rawURL, a redis:// or rediss:// URL, into the
// options of a single-node go-redis client as [Open] would make them: a
// redis:// URL for a host beyond the loopback interface is
// [ErrRedisTLSChoice] unless it has tls=disable (which is taken out), a
// connection attempt gives up after dialTimeout (> 0) unless the URL sets
// dial_timeout, and calls follow their context's deadline. An error
// quotes no part of the URL but says go-redis's reason when it is not
// the URL's syntax. It reads no prefix= or limiter_prefix= (go-redis
// refuses them): a program that opens its own client, such as
// examples/redis, takes its key prefix another way.
func RedisOptions(rawURL string, dialTimeout time.Duration) (*goredis.Options, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "redis" && scheme != "rediss") {
		return nil, errors.New("want a redis:// or rediss:// URL")
	}
	if splitsPassword(rawURL, "#") {
		return nil, errSplitPassword
	}
	rest, params, err := takeParams(rest, paramTLS)
	if err != nil {
		return nil, err
	}
	return redisOptions(rawURL, scheme, rest, params.Get(paramTLS), dialTimeout)
}

// redisOptions is RedisOptions on rawURL taken apart: its lower-case
// scheme, the rest without the parameters this package reads, and tls=.
func redisOptions(rawURL, scheme, rest, tls string, dialTimeout time.Duration) (*goredis.Options, error) {
	opt, err := goredis.ParseURL(scheme + "://" + rest)
	if err != nil {
		return nil, withoutURL(rawURL, err)
	}
	if err := requireRedisTLSChoice(scheme, tls, []string{opt.Addr}); err != nil {
		return nil, err
	}
	if dialTimeout > 0 && !hasAnyParam(rawURL, "dial_timeout") {
		opt.DialTimeout = dialTimeout
	}
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// openRedis opens a go-redis client on rawURL and a redis.Store on it.
func openRedis(ctx context.Context, rawURL string, o Options) (*Stores, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	scheme = strings.ToLower(scheme)
	rest, params, err := takeParams(rest, paramPrefix, paramLimiterPrefix, paramTLS)
	if err != nil {
		return nil, err
	}
	if strings.Contains(params.Get(paramPrefix), "{}") {
		return nil, errors.New(`the prefix must not contain an empty hash tag "{}" (on a Redis Cluster a grant's keys would hash to several slots)`)
	}
	var rdb goredis.UniversalClient
	switch scheme {
	case "redis", "rediss":
		opt, err := redisOptions(rawURL, scheme, rest, params.Get(paramTLS), o.Timeout)
		if err != nil {
			return nil, err
		}
		rdb = goredis.NewClient(opt)
	default: // redis+cluster, rediss+cluster
		clusterURL, err := clusterForm(strings.TrimSuffix(scheme, "+cluster"), rest)
		if err != nil {
			return nil, err
		}
		opt, err := goredis.ParseClusterURL(clusterURL)
		if err != nil {
			return nil, withoutURL(rawURL, err)
		}
		if err := requireRedisTLSChoice(strings.TrimSuffix(scheme, "+cluster"), params.Get(paramTLS), opt.Addrs); err != nil {
			return nil, err
		}
		if o.Timeout > 0 && !hasAnyParam(rawURL, "dial_timeout") {
			opt.DialTimeout = o.Timeout
		}
		opt.ContextTimeoutEnabled = true
		rdb = goredis.NewClusterClient(opt)
	}
	// go-redis watches a context's deadline, not its cancellation:
	// closing the client is what ends a wait on a server that does not
	// answer when ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { _ = rdb.Close() })
	err = ping(ctx, o, func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	if !stop() {
		err = fmt.Errorf("server does not answer: %w", ctx.Err())
	}
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	prefix := params.Get(paramPrefix)
	if prefix == "" {
		prefix = redis.DefaultPrefix
	}
	limiterPrefix := params.Get(paramLimiterPrefix)
	if limiterPrefix == "" {
		limiterPrefix = prefix + "limit:"
	}
	st := redis.New(rdb, redis.Config{Prefix: prefix, Now: o.Now})
	return &Stores{
		Backend: Redis,
		Clients: st,
		Tokens:  st,
		Limiter: redis.NewLimiter(rdb, limiterPrefix),
		close:   func() { _ = rdb.Close() },
	}, nil
}

// withoutURL returns err, a parse error of go-redis for rawURL, without
// the URL that a *url.Error quotes in full, password included: go-redis
// passes net/url's parse errors on. net/url's own message goes too: it
// quotes the part of the URL it could not parse ("invalid port
// \":s3cret\""), which is often a piece of a password with an unescaped
// "/", "?" or "#". When rawURL splitsPassword, go-redis's own messages
// go as well: they quote the path ("invalid database number") and the
// query ("unexpected option"), where the rest of such a password lands.
func withoutURL(rawURL string, err error) error {
	if splitsPassword(rawURL, "/?#") {
		return errSplitPassword
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("cannot parse the URL (percent-encode any / ? # @ : in the user name or password)")
	}
	return err
}

// takeParams removes the named query parameters from rest (a URL after
// its "scheme://") and returns what is left and the removed values.
func takeParams(rest string, names ...string) (string, url.Values, error) {
	head, query, ok := strings.Cut(rest, "?")
	if !ok {
		return rest, url.Values{}, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, errors.New("bad query string")
	}
	taken := url.Values{}
	for _, n := range names {
		if q.Has(n) {
			taken[n] = q[n]
			q.Del(n)
		}
	}
	if len(q) == 0 {
		return head, taken, nil
	}
	return head + "?" + q.Encode(), taken, nil
}

// clusterForm turns "host1:p1,host2:p2/…?q" into the form
// goredis.ParseClusterURL reads: "scheme://host1:p1/…?q&addr=host2:p2".
func clusterForm(scheme, rest string) (string, error) {
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	list := strings.Split(hosts, ",")
	for _, h := range list {
		if h == "" {
			return "", errors.New("empty host in cluster URL")
		}
	}
	path, query, _ := strings.Cut(tail, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", errors.New("bad query string")
	}
	for _, h := range list[1:] {
		q.Add("addr", h)
	}
	out := scheme + "://" + userinfo + list[0] + path
	if len(q) > 0 {
		out += "?" + q.Encode()
	}
	return out, nil
}

// hasAnyParam reports whether rawURL's query sets any of names.
func hasAnyParam(rawURL string, names ...string) bool {
	for _, n := range names {
		if _, ok := urlParam(rawURL, n); ok {
			return true
		}
	}
	return false
}

// urlParam returns the value of query parameter name of rawURL.
func urlParam(rawURL, name string) (string, bool) {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok {
		return "", false
	}
	q, err := url.ParseQuery(query)
	if err != nil || !q.Has(name) {
		return "", false
	}
	return q.Get(name), true
}
