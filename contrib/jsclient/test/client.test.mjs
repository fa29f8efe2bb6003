import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browser, json, tokenResponse, flush, ORIGIN, scriptTag } from './harness.mjs';

const TOKEN_URL = ORIGIN + '/oauth2/token';

// loggedIn returns a fake page whose token endpoint hands out a1/r1 for the
// password grant and a2/r2, a3/r3, ... for each refresh; api(call) answers
// the other calls.
async function loggedIn({ expiresIn = 3600, api = () => json(200, { ok: true }), refreshAnswer, config = {} } = {}) {
  let n = 1;
  const b = browser({
    route(call) {
      if (call.url === TOKEN_URL) {
        const grant = call.body.get('grant_type');
        if (grant === 'password') return tokenResponse('a1', 'r1', expiresIn);
        if (grant === 'refresh_token') {
          if (refreshAnswer) return refreshAnswer(call);
          n++;
          return tokenResponse('a' + n, 'r' + n, expiresIn);
        }
      }
      return api(call);
    },
  });
  b.client.configure({ clientId: 'demo-spa', ...config });
  const result = await b.client.login('johndoe', 'foobar42');
  assert.equal(result.error, undefined);
  b.calls.length = 0;
  return b;
}

const refreshCalls = (b) => b.calls.filter((c) => c.url === TOKEN_URL && c.body.get('grant_type') === 'refresh_token');
const bearerOf = (c) => c.headers.get('Authorization');
// revocations are the revocation requests b sent, as [url, token, client_id].
const revocations = (b) => b.calls.filter((c) => c.body && c.body.has('token')).map((c) => [c.url, c.body.get('token'), c.body.get('client_id')]);

test('login sends a form-encoded password grant and keeps the tokens in memory only', async () => {
  const b = browser({ route: () => tokenResponse('secret-access', 'secret-refresh', 3600) });
  b.client.configure({ clientId: 'demo-spa', scope: 'read' });
  const result = await b.client.login('johndoe', 'foobar42');

  assert.equal(b.calls.length, 1);
  const call = b.calls[0];
  assert.equal(call.url, TOKEN_URL);
  assert.equal(call.method, 'POST');
  assert.match(call.headers.get('Content-Type'), /^application\/x-www-form-urlencoded/);
  assert.deepEqual(Object.fromEntries(call.body), {
    grant_type: 'password', username: 'johndoe', password: 'foobar42', client_id: 'demo-spa', scope: 'read',
  });
  assert.ok(!call.url.includes('secret') && !call.url.includes('foobar42'), 'nothing secret in the URL');

  assert.deepEqual({ ...result }, { token_type: 'Bearer', expires_in: 3600, scope: 'read write', user_id: 'johndoe' });
  assert.equal(b.client.isAuthenticated(), true);
  assert.deepEqual(b.storageWrites, []);
  assert.deepEqual(b.cookieWrites, []);
  // No property of the page's global object or of OAuthClient holds a token.
  const seen = JSON.stringify(Object.keys(b.window).map((k) => {
    try { return typeof b.window[k] === 'function' ? '' : JSON.stringify(b.window[k]); } catch { return ''; }
  })) + JSON.stringify(b.client) + JSON.stringify(b.client.configure());
  assert.ok(!seen.includes('secret-access') && !seen.includes('secret-refresh'), 'tokens leak into page-visible state');
});

test('fetch attaches the bearer token to same-origin calls only', async () => {
  const b = await loggedIn();
  await b.client.fetch('/api/me');
  await b.client.fetch(ORIGIN + '/api/other', { headers: { 'X-Test': '1' } });
  await b.client.fetch('https://evil.example/steal');
  await b.client.fetch('//evil.example/steal');
  await b.client.fetch('http://app.example/api/me'); // other scheme, other origin

  assert.equal(b.calls.length, 5);
  assert.equal(bearerOf(b.calls[0]), 'Bearer a1');
  assert.equal(bearerOf(b.calls[1]), 'Bearer a1');
  assert.equal(b.calls[1].headers.get('X-Test'), '1', 'keeps the caller\'s headers');
  for (const c of b.calls.slice(2)) assert.equal(bearerOf(c), null, c.url);
});

test('fetch sends the token to an origin only when configured', async () => {
  const b = await loggedIn({ config: { allowedOrigins: ['https://api.example/'] } });
  await b.client.fetch('https://api.example/v1/me');
  await b.client.fetch('https://other.example/v1/me');
  assert.equal(bearerOf(b.calls[0]), 'Bearer a1');
  assert.equal(bearerOf(b.calls[1]), null);
});

test('fetch leaves a caller-supplied Authorization header alone', async () => {
  const b = await loggedIn({ api: () => json(401, { error: 'invalid_token' }) });
  const res = await b.client.fetch('/api/me', { headers: { Authorization: 'Basic abc' } });
  assert.equal(res.status, 401);
  assert.equal(b.calls.length, 1, 'no refresh, no retry');
  assert.equal(bearerOf(b.calls[0]), 'Basic abc');
});

test('fetch before login sends no token', async () => {
  const b = browser({ route: () => json(200, {}) });
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls[0]), null);
});

test('refresh runs at 80% of expires_in and rotates the refresh token', async () => {
  const b = await loggedIn({ expiresIn: 100 });
  await b.tick(79_000);
  assert.equal(refreshCalls(b).length, 0, 'too early');
  await b.tick(1_000);
  let r = refreshCalls(b);
  assert.equal(r.length, 1);
  assert.deepEqual(Object.fromEntries(r[0].body), { grant_type: 'refresh_token', refresh_token: 'r1', client_id: 'demo-spa' });

  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a2');

  await b.tick(80_000);
  r = refreshCalls(b);
  assert.equal(r.length, 2);
  assert.equal(r[1].body.get('refresh_token'), 'r2', 'the newest refresh token is used');
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a3');
});

test('a refresh answer without a refresh token keeps the current one', async () => {
  const b = await loggedIn({ refreshAnswer: () => tokenResponse('a-new', null, 3600) });
  await b.client.refresh();
  await b.client.refresh();
  const r = refreshCalls(b);
  assert.equal(r.length, 2);
  assert.equal(r[1].body.get('refresh_token'), 'r1');
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a-new');
});

test('a huge expires_in does not overflow setTimeout', async () => {
  const b = await loggedIn({ expiresIn: 60 * 60 * 24 * 365 });
  const delays = [...b.timers.values()].map((t) => t.ms);
  assert.equal(delays.length, 1);
  assert.ok(delays[0] > 0 && delays[0] <= 2 ** 31 - 1, String(delays[0]));
});

test('an expired token is refreshed before the call when the timer was late', async () => {
  const b = await loggedIn({ expiresIn: 100 });
  b.timers.clear(); // a throttled background tab: the timer never ran
  await b.tick(101_000);
  await b.client.fetch('/api/me');
  assert.equal(refreshCalls(b).length, 1);
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a2');
});

test('a 401 triggers one refresh and one retry', async () => {
  const b = await loggedIn({
    api: (call) => (bearerOf(call) === 'Bearer a2' ? json(200, { user_id: 'johndoe' }) : json(401, { error: 'invalid_token' })),
  });
  const res = await b.client.fetch('/api/me', { method: 'POST', body: 'x=1' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { user_id: 'johndoe' });
  const api = b.calls.filter((c) => c.url.endsWith('/api/me'));
  assert.deepEqual(api.map(bearerOf), ['Bearer a1', 'Bearer a2']);
  assert.equal(api[1].init.body, 'x=1', 'the retry sends the same body');
  assert.equal(refreshCalls(b).length, 1);
});

test('a second 401 is returned, not retried again', async () => {
  const b = await loggedIn({ api: () => json(401, { error: 'invalid_token' }) });
  const res = await b.client.fetch('/api/me');
  assert.equal(res.status, 401);
  assert.equal(refreshCalls(b).length, 1);
  assert.equal(b.calls.filter((c) => c.url.endsWith('/api/me')).length, 2);
});

test('concurrent 401s share one refresh', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    api: (call) => (bearerOf(call) === 'Bearer a2' ? json(200, {}) : json(401, { error: 'invalid_token' })),
    refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 3600); },
  });
  const pending = [b.client.fetch('/api/a'), b.client.fetch('/api/b'), b.client.fetch('/api/c'), b.client.refresh()];
  await flush();
  release();
  const results = await Promise.all(pending);
  assert.deepEqual(results.slice(0, 3).map((r) => r.status), [200, 200, 200]);
  assert.equal(refreshCalls(b).length, 1);
  assert.equal(b.calls.filter((c) => c.url.includes('/api/')).length, 6);
});

test('a refused refresh ends the session and returns the original 401', async () => {
  const ended = [];
  const b = await loggedIn({
    api: () => json(401, { error: 'invalid_token' }),
    refreshAnswer: () => json(400, { error: 'invalid_grant', error_description: 'refresh token revoked' }),
  });
  b.client.configure({ onSessionEnd: (e) => ended.push(e) });
  const res = await b.client.fetch('/api/me');
  assert.equal(res.status, 401);
  assert.equal(b.client.isAuthenticated(), false);
  assert.equal(ended.length, 1);
  assert.equal(ended[0].error, 'invalid_grant');
  assert.equal(ended[0].status, 400);
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), null);
});

test('a refresh that fails with a 5xx keeps the session', async () => {
  const b = await loggedIn({ refreshAnswer: () => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }) });
  const r = await b.client.refresh();
  assert.equal(r.error, 'server_error');
  assert.equal(r.status, 502);
  assert.equal(b.client.isAuthenticated(), true);
});

test('a refresh answered by a non-OAuth 4xx page keeps the session', async () => {
  const ended = [];
  const b = await loggedIn({ refreshAnswer: () => new Response('<html>Forbidden by proxy</html>', { status: 403, statusText: 'Forbidden' }) });
  b.client.configure({ onSessionEnd: (e) => ended.push(e) });
  const r = await b.client.refresh();
  assert.equal(r.status, 403);
  assert.equal(r.oauth, undefined);
  assert.equal(b.client.isAuthenticated(), true);
  assert.equal(ended.length, 0);
});

test('a 401 whose refresh fails transiently is returned without a retry', async () => {
  const b = await loggedIn({
    api: () => json(401, { error: 'invalid_token' }),
    refreshAnswer: () => new Response('', { status: 503, statusText: 'Service Unavailable' }),
  });
  const res = await b.client.fetch('/api/me');
  assert.equal(res.status, 401);
  assert.equal(refreshCalls(b).length, 1);
  assert.equal(b.calls.filter((c) => c.url.endsWith('/api/me')).length, 1);
  assert.equal(b.client.isAuthenticated(), true);
});

test('logout forgets the tokens, stops the timer and revokes when configured', async () => {
  const b = await loggedIn({ expiresIn: 100, config: { revokeEndpoint: '/oauth2/revoke' }, api: (call) => (call.url.endsWith('/oauth2/revoke') ? new Response('', { status: 200 }) : json(200, {})) });
  const revoked = await b.client.logout();
  assert.equal(revoked, true);
  assert.equal(b.client.isAuthenticated(), false);
  const rv = b.calls.find((c) => c.url === ORIGIN + '/oauth2/revoke');
  assert.ok(rv);
  assert.equal(rv.method, 'POST');
  assert.deepEqual(Object.fromEntries(rv.body), { token: 'r1', token_type_hint: 'refresh_token', client_id: 'demo-spa' });
  assert.equal(rv.init.keepalive, true, 'the revocation outlives a page that navigates away at once');
  for (const c of b.calls.filter((c) => c.url.endsWith('/oauth2/token'))) {
    assert.equal(c.init.keepalive, undefined, 'only the revocation is sent with keepalive');
  }

  assert.equal(b.timers.size, 0, 'the refresh timer is cancelled');
  await b.tick(200_000);
  assert.equal(refreshCalls(b).length, 0, 'no refresh after logout');
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), null);
});

test('logout tolerates a missing revocation endpoint and a network failure', async () => {
  for (const answer of [() => new Response('<h1>404</h1>', { status: 404, statusText: 'Not Found' }), () => { throw new TypeError('Failed to fetch'); }]) {
    const b = await loggedIn({ api: answer, config: { revokeEndpoint: '/oauth2/revoke' } });
    assert.equal(await b.client.logout(), false);
    assert.equal(b.client.isAuthenticated(), false);
  }
});

test('logging in again revokes the previous session when configured', async () => {
  const b = await loggedIn({ api: () => new Response('', { status: 200 }), config: { revokeEndpoint: '/oauth2/revoke' } });
  await b.client.login('johndoe', 'foobar42');
  const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke');
  assert.equal(rv.length, 1);
  assert.equal(rv[0].body.get('token'), 'r1');
  assert.equal(b.client.isAuthenticated(), true);
});

test('a session keeps where its tokens may go: configure() after login changes nothing for it', async () => {
  const b = await loggedIn({ config: { revokeEndpoint: '/oauth2/revoke' }, api: () => new Response('', { status: 200 }) });
  b.client.configure({ revokeEndpoint: 'https://evil.example/x', allowedOrigins: ['https://evil.example'] });
  await b.client.fetch('https://evil.example/steal');
  assert.equal(bearerOf(b.calls.at(-1)), null, 'no access token for an origin added during the session');
  assert.equal(await b.client.logout(), true);
  assert.ok(!b.calls.some((c) => c.url.startsWith('https://evil.example') && c.method === 'POST'), 'the refresh token goes nowhere else');
  assert.ok(b.calls.some((c) => c.url === ORIGIN + '/oauth2/revoke'), 'it is revoked where the session started');
});

test('a revocation endpoint on another origin than the token endpoint is not used', async () => {
  const b = await loggedIn({ config: { revokeEndpoint: 'https://other.example/oauth2/revoke' } });
  assert.equal(await b.client.logout(), false);
  assert.equal(b.calls.length, 0, 'the refresh token is not sent to another origin');
});

test('logout without a revocation endpoint makes no call', async () => {
  const b = await loggedIn();
  assert.equal(await b.client.logout(), false);
  assert.equal(b.calls.length, 0);
  assert.equal(b.client.isAuthenticated(), false);
});

test('a refresh that completes after logout does not revive the session', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({ refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 3600); } });
  const pending = b.client.refresh();
  await flush();
  await b.client.logout();
  release();
  const r = await pending;
  assert.ok(r.error);
  assert.equal(b.client.isAuthenticated(), false);
});

test('the script tag\'s data attributes configure the client', () => {
  const b = browser({
    currentScript: scriptTag({ clientId: 'demo-spa', revokeEndpoint: '/oauth2/revoke', allowedOrigins: 'https://a.example https://b.example', scope: 'read' }),
  });
  const c = b.client.configure();
  assert.equal(c.clientId, 'demo-spa');
  assert.equal(c.revokeEndpoint, '/oauth2/revoke');
  assert.equal(c.tokenEndpoint, '/oauth2/token');
  assert.equal(c.scope, 'read');
  assert.deepEqual([...c.allowedOrigins], ['https://a.example', 'https://b.example']);
});

test('a login that completes after logout is revoked, not left live on the server', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = browser({
    route: async (call) => {
      if (call.url === TOKEN_URL) { await gate; return tokenResponse('a1', 'r1', 3600); }
      return new Response('', { status: 200 });
    },
  });
  b.client.configure({ clientId: 'demo-spa', revokeEndpoint: '/oauth2/revoke' });
  const pending = b.client.login('johndoe', 'foobar42');
  await flush();
  await b.client.logout();
  release();
  const r = await pending;
  await flush();
  assert.ok(r.error);
  assert.equal(b.client.isAuthenticated(), false);
  const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke');
  assert.equal(rv.length, 1, 'the late grant is revoked');
  assert.equal(rv[0].body.get('token'), 'r1');
  assert.equal(rv[0].body.get('client_id'), 'demo-spa');
});

test('a call that waited across a logout and a login sends the new session no token of its own', async () => {
  let logins = 0;
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = browser({
    async route(call) {
      if (call.url === TOKEN_URL) {
        logins++;
        return tokenResponse(logins === 1 ? 'alice-at' : 'bob-at', logins === 1 ? 'alice-rt' : 'bob-rt', 3600);
      }
      if (call.url.startsWith('https://partner.example/') && bearerOf(call) === 'Bearer alice-at') {
        await gate;
        return json(401, { error: 'invalid_token' });
      }
      return json(200, {});
    },
  });
  b.client.configure({ clientId: 'demo-spa', allowedOrigins: ['https://partner.example'] });
  assert.equal((await b.client.login('alice', 'pw')).error, undefined);
  const pending = b.client.fetch('https://partner.example/v1/me');
  await flush();
  await b.client.logout();
  b.client.configure({ allowedOrigins: [] });
  assert.equal((await b.client.login('bob', 'pw')).error, undefined);
  await b.client.fetch('https://partner.example/direct');
  assert.equal(bearerOf(b.calls.at(-1)), null, "Bob's session does not allow partner.example");
  release();
  const res = await pending;
  assert.equal(res.status, 401, "Alice's call ends with her answer, not retried as Bob");
  const leaked = b.calls.filter((c) => c.url.startsWith('https://partner.example/') && bearerOf(c) === 'Bearer bob-at');
  assert.deepEqual(leaked.map((c) => c.url), [], "Bob's token went to partner.example");
});

test('fetch resolves relative URLs against the document base URL, as window.fetch does', async () => {
  // A page with <base href="https://cdn.example/assets/">: window.fetch sends
  // fetch('/api/me') to https://cdn.example/api/me, not to the page's origin.
  const b = browser({
    baseURI: 'https://cdn.example/assets/',
    route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : json(200, {})),
  });
  b.client.configure({ clientId: 'demo-spa', tokenEndpoint: TOKEN_URL });
  assert.equal((await b.client.login('johndoe', 'foobar42')).error, undefined);
  b.calls.length = 0;
  await b.client.fetch('/api/me');
  await b.client.fetch('api/me');
  await b.client.fetch(ORIGIN + '/api/me');
  assert.deepEqual(b.calls.map((c) => [c.url, bearerOf(c)]), [
    ['https://cdn.example/api/me', null],
    ['https://cdn.example/assets/api/me', null],
    [ORIGIN + '/api/me', 'Bearer a1'],
  ]);
});

test('a throttled or unavailable token endpoint\'s Retry-After reaches the caller', async () => {
  const limited = (status, after, body) => new Response(body, { status, headers: { 'Content-Type': 'application/json', 'Retry-After': after } });
  const b = browser({ route: () => limited(429, '30', JSON.stringify({ error: 'invalid_request', error_description: 'too many attempts' })) });
  const r = await b.client.login('johndoe', 'wrong');
  assert.equal(r.status, 429);
  assert.equal(r.retry_after, 30, 'how long to wait before the next login');

  const l = await loggedIn({ refreshAnswer: () => limited(503, '5', JSON.stringify({ error: 'temporarily_unavailable' })) });
  const rr = await l.client.refresh();
  assert.equal(rr.error, 'temporarily_unavailable');
  assert.equal(rr.retry_after, 5);
  assert.equal(l.client.isAuthenticated(), true, 'the refresh token is still good');

  const h = await loggedIn({ refreshAnswer: () => limited(503, 'Thu, 01 Jan 1970 00:00:00 GMT', '<html>down</html>') });
  const rh = await h.client.refresh();
  assert.equal(rh.error, 'server_error');
  assert.equal(rh.retry_after, 0, 'an HTTP-date in the past: retry now');
});

test('a refresh whose answer never comes does not wedge the client', async () => {
  let hang = true;
  const b = await loggedIn({
    expiresIn: 100,
    // A proxy that accepts the refresh and never answers (the browser's
    // fetch has no timeout of its own), then recovers.
    refreshAnswer: () => (hang ? new Promise(() => {}) : tokenResponse('a2', 'r2', 100)),
  });
  await b.tick(80_000); // the timer's refresh hangs
  assert.equal(refreshCalls(b).length, 1);
  await b.tick(21_000); // the access token has expired
  let settled = null;
  b.client.fetch('/api/me').then((res) => { settled = res.status; });
  await flush();
  hang = false;
  await b.tick(60_000);
  assert.notEqual(settled, null, 'a call waiting on the hung refresh never settled');
  const r = await b.client.refresh();
  assert.equal(r.error, undefined, 'a later refresh is sent, not the hung one shared forever');
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a2');
});

test('logout during a refresh reports the revocation of the token that refresh brings', async () => {
  // The refresh reaches the server first and rotates r1 into r2; the
  // revocation of r1 then changes nothing (a consumed refresh token), so
  // the grant lives on in r2 until r2 is revoked too.
  for (const r2Fails of [true, false]) {
    let release;
    const gate = new Promise((r) => { release = r; });
    const b = await loggedIn({
      config: { revokeEndpoint: '/oauth2/revoke' },
      refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 3600); },
      api: (call) => {
        if (call.url !== ORIGIN + '/oauth2/revoke') return json(200, {});
        if (call.body.get('token') === 'r2' && r2Fails) throw new TypeError('Failed to fetch');
        return new Response('', { status: 200 });
      },
    });
    const refreshing = b.client.refresh();
    await flush();
    let revoked = null;
    const out = b.client.logout().then((v) => { revoked = v; });
    await flush();
    assert.equal(revoked, null, 'logout is not confirmed while the refresh may have rotated r1');
    release();
    await refreshing;
    await out;
    const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke').map((c) => c.body.get('token'));
    assert.deepEqual(rv, ['r1', 'r2']);
    assert.equal(revoked, !r2Fails, r2Fails ? 'logout said the session was revoked while r2 is live on the server' : 'both revoked');
  }
});

test('a <base href> added after login does not move where the session sends its refresh token', async () => {
  // The session keeps where its tokens may go (see configure()); a script
  // that gets onto the page later and adds <base href> on its own origin
  // must not make the next refresh, or the logout's revocation, post the
  // refresh token there: window.fetch resolves the relative default
  // "/oauth2/token" against the document base URL at each call.
  const b = await loggedIn({ config: { revokeEndpoint: '/oauth2/revoke' }, api: () => json(200, {}) });
  b.window.document.baseURI = 'https://evil.example/';
  await b.client.refresh();
  await b.client.logout();
  const sent = b.calls.filter((c) => c.body && (c.body.get('refresh_token') || c.body.get('token')));
  assert.equal(sent.length, 2, 'a refresh and a revocation');
  assert.deepEqual(sent.map((c) => new URL(c.url).origin), [ORIGIN, ORIGIN], 'the refresh token stays with the server that issued it');
});

test('a Retry-After that is neither delta-seconds nor an HTTP-date is ignored, not read as "retry now"', async () => {
  // RFC 9110 section 10.2.3: delta-seconds (digits) or an HTTP-date. Date.parse
  // takes "1.5", "-5" or "7 " padded inside for dates of 2001, which would
  // tell the caller to hammer a 503 at once.
  for (const after of ['1.5', '-5', '2 0', '1.5 Jan, 2001']) {
    const l = await loggedIn({ refreshAnswer: () => new Response(JSON.stringify({ error: 'temporarily_unavailable' }),
      { status: 503, headers: { 'Content-Type': 'application/json', 'Retry-After': after } }) });
    const r = await l.client.refresh();
    assert.equal(r.error, 'temporarily_unavailable');
    assert.equal(r.retry_after, undefined, 'Retry-After: ' + after);
  }
});

test('fetch never throws: a bad argument rejects the promise, as window.fetch does', async () => {
  // window.fetch reports every error (an invalid header value, say) by
  // rejecting its promise; code written for it (fetch(...).catch(...))
  // must not meet a synchronous exception, logged in or not.
  for (const login of [false, true]) {
    const b = login ? await loggedIn() : browser({ route: () => json(200, {}) });
    let p;
    assert.doesNotThrow(() => { p = b.client.fetch('/api/me', { headers: { 'X-Bad': 'a\nb' } }); }, login ? 'logged in' : 'logged out');
    await assert.rejects(p, TypeError);
  }
});

test('an allowed origin is an absolute origin: an entry without a scheme is not read against the document base URL', async () => {
  // "api.example" (a host where an origin was meant) resolved against the
  // base URL names the base's origin; a <base href> injected into the page
  // (markup, no script) would then get the token for fetch('/api/me').
  const b = await loggedIn({ config: { allowedOrigins: ['api.example', 'https://partner.example'] } });
  b.window.document.baseURI = 'https://evil.example/';
  await b.client.fetch('/api/me');
  assert.equal(b.calls.at(-1).url, 'https://evil.example/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), null, 'the token went to the <base> origin');
  await b.client.fetch('https://partner.example/v1');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1', 'an absolute origin still gets it');
});

test('a call aborted while it waits for a refresh settles at once, as window.fetch does', async () => {
  // window.fetch rejects with AbortError as soon as its signal aborts; a
  // call held behind a slow refresh (up to `timeout`) must not wait it out.
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    expiresIn: 100,
    refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 100); },
    api: (call) => {
      const signal = call.init.signal || (typeof call.input === 'object' ? call.input.signal : null);
      if (signal && signal.aborted) throw new DOMException('This operation was aborted', 'AbortError');
      return json(200, {});
    },
  });
  b.timers.clear();
  await b.tick(101_000); // expired: the next call refreshes first
  for (const how of ['init', 'request']) {
    const ac = new AbortController();
    let outcome = null;
    const call = how === 'init'
      ? b.client.fetch('/api/me', { signal: ac.signal })
      : b.client.fetch(new Request(ORIGIN + '/api/me', { signal: ac.signal }));
    call.then(() => { outcome = 'resolved'; }, (e) => { outcome = e.name; });
    await flush();
    assert.equal(refreshCalls(b).length, 1, 'one shared refresh');
    assert.equal(outcome, null);
    ac.abort();
    await flush();
    assert.equal(outcome, 'AbortError', how + ': the aborted call waited for the refresh');
  }
  release();
  await flush();
  assert.equal(b.calls.filter((c) => c.url.endsWith('/api/me') && bearerOf(c)).length, 0, 'no request sent with a token after the abort');
});

test('a 401 to a call whose body is a stream is returned, not retried without the body', async () => {
  // A ReadableStream body is consumed by the first request: the retry
  // cannot send it again, and window.fetch rejects it. The caller gets the
  // 401 (and the session its refresh), not a TypeError for a request it
  // never made, and never a retry with no body.
  const b = await loggedIn({
    api: (call) => (bearerOf(call) === 'Bearer a2' ? json(200, { ok: true }) : json(401, { error: 'invalid_token' })),
  });
  const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('x=1')); c.close(); } });
  const res = await b.client.fetch('/api/upload', { method: 'POST', body, duplex: 'half' });
  assert.equal(res.status, 401);
  const api = b.calls.filter((c) => c.url.endsWith('/api/upload'));
  assert.deepEqual(api.map((c) => c.streamed), ['x=1'], 'sent once, with its body');
  assert.equal(refreshCalls(b).length, 1, 'the token is still renewed for the next call');
  const again = await b.client.fetch('/api/upload', { method: 'POST', body: 'x=1' });
  assert.equal(again.status, 200);
});

test('a token-endpoint answer whose body cannot be read is an error object that keeps its status class', async () => {
  // res.text() rejects when the connection drops mid-body: a 5xx is still
  // a server_error (try again later), anything else an invalid_response.
  for (const [status, want] of [[500, 'server_error'], [503, 'server_error'], [200, 'invalid_response'], [400, 'invalid_response']]) {
    const b = browser({
      route: () => ({ status, ok: status < 300, statusText: '', headers: new Headers(), text: () => Promise.reject(new TypeError('network error')) }),
    });
    const r = await b.client.login('johndoe', 'foobar42');
    assert.equal(r.error, want, 'HTTP ' + status);
    assert.equal(r.status, status);
    assert.equal(b.client.isAuthenticated(), false);
  }
});

test('token_type is read case-insensitively: a "bearer" token is used', async () => {
  // RFC 6749 section 5.1: the token_type value is case insensitive.
  const b = browser({ route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600, { token_type: 'bearer' }) : json(200, {})) });
  const r = await b.client.login('johndoe', 'foobar42');
  assert.equal(r.error, undefined);
  assert.equal(r.token_type, 'bearer');
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
});

test('an OAuth error\'s error_uri reaches the caller', async () => {
  const b = browser({ route: () => json(400, { error: 'invalid_client', error_description: 'unknown client', error_uri: 'https://as.example/errors#client' }) });
  const r = await b.client.login('johndoe', 'foobar42');
  assert.deepEqual({ ...r }, {
    error: 'invalid_client', status: 400, description: 'unknown client',
    error_description: 'unknown client', error_uri: 'https://as.example/errors#client',
  });
});

test('token-endpoint requests send no cross-site cookies, bypass the cache and follow no redirect', async () => {
  // A redirect (307/308) would re-post the password or the refresh token
  // to wherever the Location header points; a cached answer would hand a
  // second caller the first one's tokens.
  const b = await loggedIn({ config: { revokeEndpoint: '/oauth2/revoke' }, api: () => new Response('', { status: 200 }) });
  b.calls.length = 0;
  await b.client.refresh();
  await b.client.logout();
  await b.client.login('johndoe', 'foobar42');
  const posts = b.calls.filter((c) => c.method === 'POST');
  assert.equal(posts.length, 3, 'refresh, revocation, login');
  for (const c of posts) {
    assert.equal(c.init.credentials, 'same-origin', c.url);
    assert.equal(c.init.cache, 'no-store', c.url);
    assert.equal(c.init.redirect, 'error', c.url);
    assert.equal(c.headers.get('Accept'), 'application/json', c.url);
  }
});

test('a token-endpoint request that times out is aborted, not left open', async () => {
  // The timeout reports a network_error; the request itself must end too,
  // or a late answer would still rotate the refresh token on the server.
  const b = browser({ route: () => new Promise(() => {}) });
  b.window.AbortController = AbortController; // the fake window has none by default
  b.client.configure({ timeout: 5000 });
  let result = null;
  b.client.login('johndoe', 'foobar42').then((r) => { result = r; });
  await flush();
  const signal = b.calls[0].init.signal;
  assert.ok(signal, 'the request carries an AbortSignal');
  assert.equal(signal.aborted, false);
  await b.tick(4_999);
  assert.equal(result, null, 'too early');
  await b.tick(1);
  assert.equal(result.error, 'network_error');
  assert.equal(result.status, 0);
  assert.equal(signal.aborted, true, 'the hung request is aborted');
});

test('a refresh made before the timer fires reschedules it: no second refresh at the old time', async () => {
  const b = await loggedIn({ expiresIn: 100 });
  await b.tick(10_000);
  await b.client.refresh(); // a2, due again at 10 s + 80 s
  assert.equal(refreshCalls(b).length, 1);
  assert.equal(b.timers.size, 1, 'one refresh timer');
  await b.tick(70_000); // 80 s after login: the first timer's time
  assert.equal(refreshCalls(b).length, 1, 'the old timer refreshed again');
  await b.tick(10_000);
  assert.equal(refreshCalls(b).length, 2);
  assert.equal(refreshCalls(b)[1].body.get('refresh_token'), 'r2');
});

test('a refreshRatio outside (0, 1) falls back to 0.8', async () => {
  // 1 would renew at expiry, when the access token is already refused.
  for (const refreshRatio of [1, 0, -1, 2, 'x']) {
    const b = await loggedIn({ expiresIn: 100, config: { refreshRatio } });
    assert.deepEqual([...b.timers.values()].map((t) => t.ms), [80_000], 'refreshRatio ' + refreshRatio);
  }
  const b = await loggedIn({ expiresIn: 100, config: { refreshRatio: 0.5 } });
  assert.deepEqual([...b.timers.values()].map((t) => t.ms), [50_000]);
});

test('a tiny expires_in does not make the client refresh in a loop', async () => {
  // A server answering expires_in 0.001 (or 1 with refreshRatio 0.8) would
  // otherwise get a refresh every millisecond.
  for (const expiresIn of [0.001, 1]) {
    const b = await loggedIn({ expiresIn });
    assert.deepEqual([...b.timers.values()].map((t) => t.ms), [1000], 'expires_in ' + expiresIn);
  }
});

test('a refresh answer without expires_in forgets the old expiry', async () => {
  // The old expiry would mark the new token expired and make every later
  // call refresh first.
  let n = 0;
  const b = await loggedIn({ expiresIn: 100, refreshAnswer: () => { n++; return json(200, { access_token: 'a' + (n + 1), token_type: 'Bearer' }); } });
  await b.client.refresh();
  b.timers.clear();
  await b.tick(200_000);
  await b.client.fetch('/api/me');
  await b.client.fetch('/api/me');
  assert.equal(refreshCalls(b).length, 1, 'no refresh before each call');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a2');
});

test('an onSessionEnd that throws does not break the refresh or the call', async () => {
  const b = await loggedIn({
    api: () => json(401, { error: 'invalid_token' }),
    refreshAnswer: () => json(400, { error: 'invalid_grant' }),
  });
  b.client.configure({ onSessionEnd: () => { throw new Error('page bug'); } });
  const res = await b.client.fetch('/api/me');
  assert.equal(res.status, 401, 'the call resolves with its 401');
  assert.equal(b.client.isAuthenticated(), false);
});

test('a refresh refused with a transient OAuth error (408, 429, 5xx) keeps the session', async () => {
  for (const status of [408, 429, 500, 503]) {
    const ended = [];
    const b = await loggedIn({ refreshAnswer: () => json(status, { error: status === 429 ? 'slow_down' : 'temporarily_unavailable' }) });
    b.client.configure({ onSessionEnd: (e) => ended.push(e) });
    const r = await b.client.refresh();
    assert.equal(r.status, status);
    assert.equal(b.client.isAuthenticated(), true, 'HTTP ' + status + ' ended the session');
    assert.equal(ended.length, 0);
  }
});

test('a session is revoked with the client it was issued to, whatever configure() says now', async () => {
  // RFC 7009 section 2.1: the server revokes a token only for the client
  // it was issued to; another client_id would leave the grant live.
  const b = browser({ route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : new Response('', { status: 200 })) });
  b.client.configure({ clientId: 'default-client', revokeEndpoint: '/oauth2/revoke' });
  await b.client.login('johndoe', 'foobar42', { clientId: 'form-client' });
  await b.client.login('johndoe', 'foobar42', { clientId: 'form-client' }); // revokes the first session
  b.client.configure({ clientId: 'changed-client' });
  await b.client.logout();
  const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke');
  assert.deepEqual(rv.map((c) => c.body.get('client_id')), ['form-client', 'form-client']);
});

test('login with scope "" asks for no scope, not the configured one', async () => {
  const b = browser({ route: () => tokenResponse('a1', 'r1') });
  b.client.configure({ clientId: 'demo-spa', scope: 'read write' });
  await b.client.login('johndoe', 'foobar42', { scope: '' });
  await b.client.login('johndoe', 'foobar42');
  assert.equal(b.calls[0].body.has('scope'), false);
  assert.equal(b.calls[1].body.get('scope'), 'read write');
});

test('an allowed origin without a scheme is dropped also when a <base href> is on the page at login', async () => {
  const b = browser({
    baseURI: 'https://evil.example/',
    route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : json(200, {})),
  });
  b.client.configure({ clientId: 'demo-spa', tokenEndpoint: TOKEN_URL, allowedOrigins: ['api.example'] });
  assert.equal((await b.client.login('johndoe', 'foobar42')).error, undefined);
  await b.client.fetch('https://evil.example/steal');
  assert.equal(bearerOf(b.calls.at(-1)), null, 'the token went to the <base> origin');
});

test('allowedOrigins may be one string', async () => {
  const b = await loggedIn({ config: { allowedOrigins: 'https://api.example' } });
  await b.client.fetch('https://api.example/v1/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
});

test('fetch with a Request keeps the Request\'s own headers and its own Authorization', async () => {
  const b = await loggedIn();
  await b.client.fetch(new Request(ORIGIN + '/api/me', { headers: { 'X-Test': '1' } }));
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
  assert.equal(b.calls.at(-1).headers.get('X-Test'), '1', 'the Request\'s headers are kept');
  await b.client.fetch(new Request(ORIGIN + '/api/me', { headers: { Authorization: 'Basic abc' } }));
  assert.equal(bearerOf(b.calls.at(-1)), 'Basic abc', 'a Request\'s own Authorization is left alone');
});

test('fetch sends to the URL whose origin it checked, however often the input is read', async () => {
  // An object whose toString answers the page's origin once and another
  // origin after would otherwise take the token elsewhere.
  const b = await loggedIn();
  let reads = 0;
  const input = { toString: () => (reads++ === 0 ? ORIGIN + '/api/me' : 'https://evil.example/steal') };
  await b.client.fetch(input);
  assert.equal(b.calls.at(-1).url, ORIGIN + '/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
});

test('a 401 to a Request with a body is retried with a fresh copy of it', async () => {
  // A Request's body is consumed when it is sent; the retry needs a clone
  // taken before.
  const b = await loggedIn({
    api: async (call) => {
      const body = await call.input.text(); // rejects when the body was used already
      return bearerOf(call) === 'Bearer a2' ? json(200, { body }) : json(401, { error: 'invalid_token' });
    },
  });
  const res = await b.client.fetch(new Request(ORIGIN + '/api/me', { method: 'POST', body: 'x=1' }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { body: 'x=1' });
});

test('a token is expired at its expiry instant (the call refreshes first), still good 1 ms before', async () => {
  for (const [elapsed, refreshes, bearer] of [[100_000, 1, 'Bearer a2'], [99_999, 0, 'Bearer a1']]) {
    const b = await loggedIn({ expiresIn: 100 });
    b.timers.clear();
    await b.tick(elapsed);
    await b.client.fetch('/api/me');
    assert.equal(refreshCalls(b).length, refreshes, elapsed + ' ms after the login');
    assert.equal(bearerOf(b.calls.at(-1)), bearer, elapsed + ' ms after the login');
  }
});

test('a token that has not expired is sent without a refresh first', async () => {
  const b = await loggedIn({ expiresIn: 100 });
  await b.tick(50_000);
  await b.client.fetch('/api/me');
  assert.equal(refreshCalls(b).length, 0);
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
});

test('a call that waited for a refresh across a logout and a login sends no token of the new session', async () => {
  // Alice's call to partner.example (allowed in her session) waits for the
  // refresh of her expired token; Bob logs in meanwhile without that
  // origin: the call must not go out with Bob's token.
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = browser({
    async route(call) {
      if (call.url === TOKEN_URL) {
        if (call.body.get('grant_type') === 'refresh_token') { await gate; return tokenResponse('alice-at2', 'alice-rt2', 100); }
        return call.body.get('username') === 'alice' ? tokenResponse('alice-at', 'alice-rt', 100) : tokenResponse('bob-at', 'bob-rt', 3600);
      }
      return json(200, {});
    },
  });
  b.client.configure({ clientId: 'demo-spa', allowedOrigins: ['https://partner.example'] });
  assert.equal((await b.client.login('alice', 'pw')).error, undefined);
  b.timers.clear();
  await b.tick(101_000);
  const pending = b.client.fetch('https://partner.example/v1/me');
  await flush();
  await b.client.logout();
  b.client.configure({ allowedOrigins: [] });
  assert.equal((await b.client.login('bob', 'pw')).error, undefined);
  release();
  await pending;
  const sent = b.calls.filter((c) => c.url.startsWith('https://partner.example/'));
  assert.deepEqual(sent.map(bearerOf), [null], "Bob's token went to partner.example");
});

test('a 401 that arrives after another call renewed the token is retried without a second refresh', async () => {
  let releaseB;
  const gateB = new Promise((r) => { releaseB = r; });
  const b = await loggedIn({
    api: async (call) => {
      if (bearerOf(call) === 'Bearer a1') {
        if (call.url.endsWith('/api/b')) await gateB;
        return json(401, { error: 'invalid_token' });
      }
      return json(200, {});
    },
  });
  const first = b.client.fetch('/api/a');
  const second = b.client.fetch('/api/b');
  assert.equal((await first).status, 200);
  releaseB();
  assert.equal((await second).status, 200);
  assert.equal(refreshCalls(b).length, 1, 'the second 401 rotated the fresh token again');
  assert.deepEqual(b.calls.filter((c) => c.url.endsWith('/api/b')).map(bearerOf), ['Bearer a1', 'Bearer a2']);
});

test('a call aborted while its 401 waits for the refresh rejects with AbortError', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 3600); },
    api: (call) => {
      if (call.init.signal && call.init.signal.aborted) throw new DOMException('This operation was aborted', 'AbortError');
      return json(401, { error: 'invalid_token' });
    },
  });
  const ac = new AbortController();
  let outcome = null;
  b.client.fetch('/api/me', { signal: ac.signal }).then((r) => { outcome = r.status; }, (e) => { outcome = e.name; });
  await flush();
  assert.equal(refreshCalls(b).length, 1);
  ac.abort();
  await flush();
  assert.equal(outcome, 'AbortError');
  release();
  await flush();
  assert.equal(b.calls.filter((c) => c.url.endsWith('/api/me') && bearerOf(c) === 'Bearer a2').length, 0);
});

test('a call whose signal is already aborted does not wait for a refresh', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    expiresIn: 100,
    refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 100); },
    api: (call) => {
      if (call.init.signal && call.init.signal.aborted) throw new DOMException('This operation was aborted', 'AbortError');
      return json(200, {});
    },
  });
  b.timers.clear();
  await b.tick(101_000);
  let outcome = null;
  b.client.fetch('/api/me', { signal: AbortSignal.abort() }).then(() => { outcome = 'resolved'; }, (e) => { outcome = e.name; });
  await flush();
  assert.equal(outcome, 'AbortError');
  release();
  await flush();
});

test('fetch removes its abort listener once the refresh it waited for settles', async () => {
  // A page-lifetime AbortSignal shared by many calls would collect one
  // listener per call.
  const listeners = new Set();
  const signal = {
    aborted: false,
    addEventListener: (type, fn) => listeners.add(fn),
    removeEventListener: (type, fn) => listeners.delete(fn),
  };
  const b = await loggedIn({ expiresIn: 100 });
  b.timers.clear();
  await b.tick(101_000);
  await b.client.fetch('/api/me', { signal });
  assert.equal(refreshCalls(b).length, 1);
  assert.equal(listeners.size, 0);
});

test('configure() returns a copy: changing it changes no setting', async () => {
  const b = browser({ route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : json(200, {})) });
  b.client.configure({ allowedOrigins: ['https://api.example'] });
  const c = b.client.configure();
  c.allowedOrigins.push('https://evil.example');
  c.clientId = 'evil';
  assert.deepEqual([...b.client.configure().allowedOrigins], ['https://api.example']);
  assert.equal(b.client.configure().clientId, '');
  await b.client.login('johndoe', 'foobar42');
  await b.client.fetch('https://evil.example/steal');
  assert.equal(bearerOf(b.calls.at(-1)), null);
});

test('the script tag\'s data-token-endpoint sets the token endpoint', async () => {
  const b = browser({
    currentScript: scriptTag({ tokenEndpoint: '/auth/token' }),
    route: () => tokenResponse('a1', 'r1'),
  });
  assert.equal(b.client.configure().tokenEndpoint, '/auth/token');
  await b.client.login('johndoe', 'foobar42');
  assert.equal(b.calls[0].url, ORIGIN + '/auth/token');
});

test('a refused refresh reports only the documented fields', async () => {
  const ended = [];
  const b = await loggedIn({ refreshAnswer: () => json(400, { error: 'invalid_grant', error_description: 'revoked' }) });
  b.client.configure({ onSessionEnd: (e) => ended.push(e) });
  const r = await b.client.refresh();
  assert.deepEqual({ ...r }, { error: 'invalid_grant', status: 400, description: 'revoked', error_description: 'revoked' });
  assert.equal(ended[0], r);
});

test('a 401 is not retried when the refresh brings the same access token', async () => {
  const b = await loggedIn({ api: () => json(401, { error: 'invalid_token' }), refreshAnswer: () => tokenResponse('a1', 'r2', 3600) });
  const res = await b.client.fetch('/api/me');
  assert.equal(res.status, 401);
  assert.equal(b.calls.filter((c) => c.url.endsWith('/api/me')).length, 1, 'the same refused token was sent again');
});

test('timeout Infinity sets no timeout', async () => {
  const b = browser({ route: () => new Promise(() => {}) });
  b.client.configure({ timeout: Infinity });
  b.client.login('johndoe', 'foobar42');
  await flush();
  assert.equal(b.calls.length, 1);
  assert.equal(b.timers.size, 0, 'a timer would end the request after 2^31-1 ms');
});

test('document.currentScript clobbered by injected markup configures nothing', async () => {
  // <img name="currentScript" data-token-endpoint=...> before the script:
  // the document's named properties come before its built-in
  // currentScript, so that is what document.currentScript answers.
  const evil = { dataset: { tokenEndpoint: 'https://evil.example/token', allowedOrigins: 'https://evil.example', clientId: 'x' } };
  for (const clobber of [{ tagName: 'IMG', ...evil }, evil]) {
    const b = browser({
      currentScript: scriptTag({ clientId: 'demo-spa' }),
      named: { currentScript: clobber },
      route: () => tokenResponse('a1', 'r1'),
    });
    const c = b.client.configure();
    assert.equal(c.tokenEndpoint, '/oauth2/token');
    assert.deepEqual([...c.allowedOrigins], []);
    assert.equal(c.clientId, 'demo-spa', 'the settings of the script tag itself');
    await b.client.login('johndoe', 'foobar42');
    assert.equal(b.calls[0].url, TOKEN_URL, 'the password goes to the page\'s own token endpoint');
    await b.client.fetch('https://evil.example/api');
    assert.equal(bearerOf(b.calls.at(-1)), null);
  }
});

test('a current script that is no <script> element configures nothing', () => {
  const b = browser({ currentScript: { dataset: { tokenEndpoint: 'https://evil.example/token' } } });
  assert.equal(b.client.configure().tokenEndpoint, '/oauth2/token');
});

test('refresh() resolves to the token response without the tokens', async () => {
  // The tokens never leave the script: page code that calls refresh()
  // gets what login() gives it, not the new access and refresh token.
  const b = await loggedIn();
  const r = await b.client.refresh();
  assert.deepEqual({ ...r }, { token_type: 'Bearer', expires_in: 3600, scope: 'read write', user_id: 'johndoe' });
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a2');
});

test('refresh() sends nothing before login, after logout or after the session ended', async () => {
  const notLoggedIn = { error: 'invalid_grant', status: 0, description: 'not logged in' };
  const fresh = browser();
  assert.deepEqual({ ...(await fresh.client.refresh()) }, notLoggedIn);
  assert.equal(fresh.calls.length, 0, 'a refresh grant without a refresh token');

  const b = await loggedIn();
  await b.client.logout();
  assert.deepEqual({ ...(await b.client.refresh()) }, notLoggedIn);
  assert.equal(b.calls.length, 0, 'the logged-out refresh token was presented again');

  const e = await loggedIn({ refreshAnswer: () => json(400, { error: 'invalid_grant' }) });
  await e.client.refresh();
  assert.equal(e.client.isAuthenticated(), false);
  assert.deepEqual({ ...(await e.client.refresh()) }, notLoggedIn);
  assert.equal(refreshCalls(e).length, 1, 'the refused refresh token was presented again');
});

test('a refresh still in flight at logout does not stand for the next session\'s', async () => {
  // The next session's refresh() must send its own refresh token, not
  // share the old session's request (whose answer is dropped).
  let release;
  const gate = new Promise((r) => { release = r; });
  let n = 0;
  const b = await loggedIn({
    refreshAnswer: async () => {
      if (++n === 1) { await gate; throw new TypeError('Failed to fetch'); }
      return tokenResponse('a-next', 'r-next', 3600);
    },
  });
  const old = b.client.refresh();
  await flush();
  await b.client.logout();
  await b.client.login('johndoe', 'foobar42');
  const r = await b.client.refresh();
  assert.equal(r.error, undefined, 'the new session\'s refresh was the old session\'s');
  assert.deepEqual(refreshCalls(b).map((c) => c.body.get('refresh_token')), ['r1', 'r1']);
  release();
  await old;
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a-next');
});

test('logout during a refresh that gets no answer does not report the session revoked, nor the next session\'s', async () => {
  // The refresh may have reached the server and rotated r1 into a token
  // nobody knows: revoking r1 then ends nothing, so the logout is unconfirmed.
  let release;
  const gate = new Promise((r) => { release = r; });
  let n = 0;
  const b = await loggedIn({
    config: { revokeEndpoint: '/oauth2/revoke' },
    refreshAnswer: async () => { if (++n === 1) { await gate; throw new TypeError('Failed to fetch'); } return tokenResponse('a2', 'r2', 3600); },
    api: () => new Response('', { status: 200 }),
  });
  const refreshing = b.client.refresh();
  await flush();
  const out = b.client.logout();
  release();
  await refreshing;
  assert.equal(await out, false, 'the logout during the unanswered refresh was reported confirmed');
  await b.client.login('johndoe', 'foobar42');
  assert.equal(await b.client.logout(), true, 'the second session, revoked, was reported unconfirmed');
});

test('a session without a refresh token is logged in and its access token is what gets revoked', async () => {
  // A server may issue no refresh token (RFC 6749 section 5.1): the
  // access token is then the session's only token, and a logout, a new
  // login or a login that completes after a logout revokes it.
  let release = () => {};
  let gate = null;
  let n = 0;
  const b = browser({
    route: async (call) => {
      if (call.url === TOKEN_URL) { if (gate) await gate; return tokenResponse('a' + ++n, null, 3600); }
      return new Response('', { status: 200 });
    },
  });
  b.client.configure({ clientId: 'demo-spa', revokeEndpoint: '/oauth2/revoke' });
  await b.client.login('johndoe', 'foobar42');
  assert.equal(b.client.isAuthenticated(), true);
  await b.client.login('johndoe', 'foobar42'); // revokes a1
  assert.equal(await b.client.logout(), true); // revokes a2
  gate = new Promise((r) => { release = r; });
  const late = b.client.login('johndoe', 'foobar42');
  await flush();
  await b.client.logout();
  release();
  await late;
  await flush();
  const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke').map((c) => c.body.get('token'));
  assert.deepEqual(rv, ['a1', 'a2', 'a3']);
});

test('logging in again ends the previous session at once, revoked with its own client and endpoint', async () => {
  let release = () => {};
  let gate = null;
  const b = browser({
    route: async (call) => {
      if (call.url === TOKEN_URL) {
        if (gate) { await gate; return json(400, { error: 'invalid_grant' }); }
        return tokenResponse('a1', 'r1', 100);
      }
      return new Response('', { status: 200 });
    },
  });
  b.client.configure({ clientId: 'first-client', revokeEndpoint: '/oauth2/revoke' });
  await b.client.login('johndoe', 'foobar42');
  // configure() after the login changes nothing for the first session.
  b.client.configure({ clientId: 'second-client', revokeEndpoint: '/other/revoke' });
  gate = new Promise((r) => { release = r; });
  const second = b.client.login('janedoe', 'wrong');
  await flush();
  assert.equal(b.client.isAuthenticated(), false, 'the first session lives on while the next login runs');
  await b.client.fetch('/api/me');
  assert.equal(bearerOf(b.calls.at(-1)), null);
  assert.deepEqual(revocations(b),
    [[ORIGIN + '/oauth2/revoke', 'r1', 'first-client']]);
  release();
  assert.equal((await second).error, 'invalid_grant');
  assert.equal(b.client.isAuthenticated(), false, 'a failed login brought the first session back');
  await b.tick(100_000);
  assert.equal(b.calls.filter((c) => c.url === TOKEN_URL && c.body.get('grant_type') === 'refresh_token').length, 0,
    'the first session\'s refresh timer ran on');
});

test('logout during a refresh that rotates nothing is confirmed by the one revocation', async () => {
  // A refresh refused by the server, or answered without a new refresh
  // token, leaves r1 the grant's token: revoking r1 ends the session.
  const answers = {
    refused: () => json(400, { error: 'invalid_grant' }),
    'not rotated': () => tokenResponse('a2', null, 3600),
  };
  for (const [name, answer] of Object.entries(answers)) {
    let release;
    const gate = new Promise((r) => { release = r; });
    const b = await loggedIn({
      config: { revokeEndpoint: '/oauth2/revoke' },
      refreshAnswer: async () => { await gate; return answer(); },
      api: () => new Response('', { status: 200 }),
    });
    const refreshing = b.client.refresh();
    await flush();
    const out = b.client.logout();
    release();
    await refreshing;
    assert.equal(await out, true, name);
    const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke').map((c) => c.body.get('token'));
    assert.deepEqual(rv, ['r1'], name);
  }
});

test('a refresh answer whose refresh_token is empty or no string keeps the current one', async () => {
  for (const bad of ['', 42]) {
    const b = await loggedIn({ refreshAnswer: () => tokenResponse('a-new', null, 3600, { refresh_token: bad }) });
    await b.client.refresh();
    await b.client.refresh();
    assert.deepEqual(refreshCalls(b).map((c) => c.body.get('refresh_token')), ['r1', 'r1'], JSON.stringify(bad));
  }
});

test('a Retry-After HTTP-date is the seconds until then, rounded up; a success carries no retry_after', async () => {
  const at = new Date(1_700_000_000_000 + 90_000).toUTCString(); // the fake clock's start + 90 s
  const b = browser({
    route: () => new Response(JSON.stringify({ error: 'slow_down' }), { status: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': at } }),
  });
  await b.tick(500); // 89.5 s before that date
  const r = await b.client.login('johndoe', 'wrong');
  assert.equal(r.retry_after, 90, 'waiting 89 s is too early');

  const ok = browser({ route: () => new Response(JSON.stringify({ access_token: 'a1', token_type: 'Bearer' }), { status: 200, headers: { 'Retry-After': '30' } }) });
  const s = await ok.client.login('johndoe', 'foobar42');
  assert.equal(s.error, undefined);
  assert.ok(!('retry_after' in s), 'a success is not throttled');
});

test('the token-endpoint timeout: 30 s by default, none for 0, capped where setTimeout overflows', async () => {
  const settled = (p) => { const s = { r: null }; p.then((r) => { s.r = r; }); return s; };
  const hung = browser({ route: () => new Promise(() => {}) });
  const d = settled(hung.client.login('johndoe', 'foobar42'));
  await hung.tick(29_999);
  assert.equal(d.r, null, 'given up before 30 s');
  await hung.tick(1);
  assert.equal(d.r.error, 'network_error');

  let release;
  const gate = new Promise((r) => { release = r; });
  const slow = browser({ route: async () => { await gate; return tokenResponse('a1', 'r1'); } });
  slow.client.configure({ timeout: 0 });
  const s = settled(slow.client.login('johndoe', 'foobar42'));
  await slow.tick(600_000);
  assert.equal(s.r, null, 'timeout 0 gave up');
  release();
  await flush();
  assert.equal(s.r.error, undefined);

  // setTimeout fires at once for a delay above 2^31-1 ms.
  const long = browser({ route: () => new Promise(() => {}) });
  long.client.configure({ timeout: 2 ** 32 });
  long.client.login('johndoe', 'foobar42');
  await flush();
  assert.deepEqual([...long.timers.values()].map((t) => t.ms), [2147483647]);
});

test('a window.fetch that throws at once is a network_error, not an exception', async () => {
  const b = browser();
  b.window.fetch = () => { throw new TypeError('Failed to fetch'); };
  const r = await b.client.login('johndoe', 'foobar42');
  assert.equal(r.error, 'network_error');
  assert.equal(r.status, 0);
});

test('a missing username, password or scope is left out of the request, not sent as "undefined" or "null"', async () => {
  const b = browser({ route: () => tokenResponse('a1', 'r1') });
  b.client.configure({ clientId: 'demo-spa', scope: null });
  await b.client.login(undefined, null);
  assert.deepEqual(Object.fromEntries(b.calls[0].body), { grant_type: 'password', client_id: 'demo-spa' });
});

test('only the revocation is sent with keepalive: not the login, nor the refresh', async () => {
  const b = await loggedIn({ config: { revokeEndpoint: '/oauth2/revoke' }, api: () => new Response('', { status: 200 }) });
  await b.client.refresh();
  await b.client.logout();
  await b.client.login('johndoe', 'foobar42');
  assert.deepEqual(b.calls.map((c) => [c.url, c.init.keepalive]),
    [[TOKEN_URL, undefined], [ORIGIN + '/oauth2/revoke', true], [TOKEN_URL, undefined]]);
});

test('an expires_in of 0 or below is no lifetime: no refresh loop, no refresh before each call', async () => {
  // Read as a lifetime it would mark every token expired at once: each
  // call would refresh first and the timer would refresh every second.
  for (const expiresIn of [0, -60]) {
    const b = await loggedIn({ expiresIn });
    assert.equal(b.timers.size, 0, 'expires_in ' + expiresIn);
    await b.tick(5_000);
    await b.client.fetch('/api/me');
    assert.equal(refreshCalls(b).length, 0, 'expires_in ' + expiresIn);
    assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
  }
});

test('data-allowed-origins may be spread over lines, and each origin gets the token', async () => {
  const b = browser({
    currentScript: scriptTag({ allowedOrigins: '\n  https://a.example\n\thttps://b.example\n' }),
    route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : json(200, {})),
  });
  await b.client.login('johndoe', 'foobar42');
  for (const origin of ['https://a.example', 'https://b.example']) {
    await b.client.fetch(origin + '/api/me');
    assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1', origin);
  }
});

test('configure({allowedOrigins: null}) is no extra origin', async () => {
  const b = browser({ route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : json(200, {})) });
  b.client.configure({ allowedOrigins: ['https://api.example'] });
  assert.deepEqual([...b.client.configure({ allowedOrigins: null }).allowedOrigins], []);
  await b.client.login('johndoe', 'foobar42');
  await b.client.fetch('https://api.example/x');
  assert.equal(bearerOf(b.calls.at(-1)), null);
});

test('OAuthClient.version is "1"', () => {
  assert.equal(browser().client.version, '1');
});

test('relative token and revocation endpoints are judged where the document\'s base URL puts them', async () => {
  // With <base href="https://auth.example/"> both name auth.example: the
  // revocation endpoint is on the token endpoint's origin and is used.
  const b = browser({
    baseURI: 'https://auth.example/',
    route: (call) => (call.url === 'https://auth.example/oauth2/token' ? tokenResponse('a1', 'r1', 3600) : new Response('', { status: 200 })),
  });
  b.client.configure({ clientId: 'demo-spa', revokeEndpoint: '/oauth2/revoke' });
  assert.equal((await b.client.login('johndoe', 'foobar42')).error, undefined);
  assert.equal(await b.client.logout(), true);
  assert.equal(b.calls.at(-1).url, 'https://auth.example/oauth2/revoke');
});

test('late tokens are revoked with the client and at the endpoint of the session they belong to', async () => {
  // configure() while a login or a refresh is in flight changes nothing
  // for the grant it brings: the revocation goes where the session's
  // would, with its client_id.
  let release;
  let gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    config: { revokeEndpoint: '/oauth2/revoke' },
    refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 3600); },
    api: () => new Response('', { status: 200 }),
  });
  b.client.configure({ clientId: 'changed-client', revokeEndpoint: '/changed/revoke' });
  const refreshing = b.client.refresh();
  await flush();
  const out = b.client.logout();
  release();
  await refreshing;
  assert.equal(await out, true);

  assert.deepEqual(revocations(b), [[ORIGIN + '/oauth2/revoke', 'r1', 'demo-spa'], [ORIGIN + '/oauth2/revoke', 'r2', 'demo-spa']]);

  gate = new Promise((r) => { release = r; });
  const l = browser({
    route: async (call) => {
      if (call.url === TOKEN_URL) { await gate; return tokenResponse('a1', 'r1', 3600); }
      return new Response('', { status: 200 });
    },
  });
  l.client.configure({ clientId: 'demo-spa', revokeEndpoint: '/oauth2/revoke' });
  const late = l.client.login('johndoe', 'foobar42', { clientId: 'form-client' });
  await flush();
  await l.client.logout();
  l.client.configure({ clientId: 'changed-client', revokeEndpoint: '/changed/revoke' });
  release();
  await late;
  await flush();
  assert.deepEqual(revocations(l),
    [[ORIGIN + '/oauth2/revoke', 'r1', 'form-client']]);
});

test('a 403 is returned as it is: no refresh, no retry', async () => {
  const b = await loggedIn({ api: () => json(403, { error: 'insufficient_scope' }) });
  const res = await b.client.fetch('/api/admin');
  assert.equal(res.status, 403);
  assert.equal(refreshCalls(b).length, 0);
  assert.equal(b.calls.length, 1);
});

test('a refresh that completes after a logout and a login with another client is revoked with its own session\'s client', async () => {
  // The late grant belongs to the session that sent the refresh: revoked
  // with the next session's client_id, the server would refuse it as
  // another client's and the grant would live on.
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    config: { revokeEndpoint: '/oauth2/revoke' },
    refreshAnswer: async () => { await gate; return tokenResponse('a2', 'r2', 3600); },
    api: () => new Response('', { status: 200 }),
  });
  const refreshing = b.client.refresh();
  await flush();
  const out = b.client.logout(); // settles once the refresh has
  const next = await b.client.login('johndoe', 'foobar42', { clientId: 'other-client' });
  assert.equal(next.error, undefined);
  release();
  await refreshing;
  assert.equal(await out, true);
  assert.deepEqual(revocations(b), [[ORIGIN + '/oauth2/revoke', 'r1', 'demo-spa'], [ORIGIN + '/oauth2/revoke', 'r2', 'demo-spa']]);
});

test('a session keeps the settings its login started with, not those configure() sets while the login is in flight', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = browser({
    route: async (call) => {
      if (call.url === TOKEN_URL) { await gate; return tokenResponse('a1', 'r1', 3600); }
      return new Response('', { status: 200 });
    },
  });
  b.client.configure({ clientId: 'demo-spa', revokeEndpoint: '/oauth2/revoke', allowedOrigins: ['https://api.example'] });
  const login = b.client.login('johndoe', 'foobar42');
  await flush();
  b.client.configure({ revokeEndpoint: '/changed/revoke', allowedOrigins: ['https://evil.example'] });
  release();
  assert.equal((await login).error, undefined);
  await b.client.fetch('https://evil.example/steal');
  assert.equal(bearerOf(b.calls.at(-1)), null, 'an origin configured during the login got the token');
  await b.client.fetch('https://api.example/data');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
  assert.equal(await b.client.logout(), true);
  assert.equal(b.calls.at(-1).url, ORIGIN + '/oauth2/revoke', 'the refresh token went to the endpoint configured during the login');
});

test('logout during a refresh is not confirmed when the revocation of the refresh token fails', async () => {
  // The refresh is refused (nothing rotated, nothing more to revoke), but
  // r1 itself could not be revoked: the grant may be live.
  let release;
  const gate = new Promise((r) => { release = r; });
  const b = await loggedIn({
    config: { revokeEndpoint: '/oauth2/revoke' },
    refreshAnswer: async () => { await gate; return json(400, { error: 'invalid_grant' }); },
    api: () => json(503, { error: 'temporarily_unavailable' }),
  });
  const refreshing = b.client.refresh();
  await flush();
  const out = b.client.logout();
  release();
  await refreshing;
  assert.equal(await out, false);
});

test('no refresh is scheduled without a refresh token, nor for an expires_in that is no finite number', async () => {
  const noRefreshToken = browser({ route: () => tokenResponse('a1', null, 3600) });
  await noRefreshToken.client.login('johndoe', 'foobar42');
  assert.equal(noRefreshToken.timers.size, 0, 'a timer that could only find nothing to refresh');

  // 1e400 is valid JSON, read as Infinity: no lifetime, like none at all.
  const body = '{"access_token":"a1","token_type":"Bearer","refresh_token":"r1","expires_in":1e400}';
  const b = browser({ route: (call) => (call.url === TOKEN_URL ? new Response(body, { status: 200 }) : json(200, {})) });
  assert.equal((await b.client.login('johndoe', 'foobar42')).expires_in, Infinity);
  assert.equal(b.timers.size, 0);
  await b.tick(2 ** 31);
  await b.client.fetch('/api/me');
  assert.equal(b.calls.filter((c) => c.url === TOKEN_URL).length, 1, 'no refresh');
  assert.equal(bearerOf(b.calls.at(-1)), 'Bearer a1');
});

test('an opaque origin ("null") is no origin: the page\'s own, if opaque, gets no token, nor a revocation endpoint', async () => {
  // A sandboxed frame's origin is opaque ("null"), and so are the
  // origins of data: URLs: two opaque origins are never the same origin.
  const b = await loggedIn();
  b.window.location = { href: ORIGIN + '/page', origin: 'null' };
  await b.client.fetch('data:text/plain,x');
  assert.equal(b.calls.length, 1);
  assert.equal(bearerOf(b.calls[0]), null);

  const d = browser({ route: () => tokenResponse('a1', 'r1', 3600) });
  d.client.configure({ tokenEndpoint: 'data:application/json,{}', revokeEndpoint: 'data:text/plain,revoke' });
  assert.equal((await d.client.login('johndoe', 'foobar42')).error, undefined);
  assert.equal(await d.client.logout(), false);
  assert.equal(d.calls.length, 1, 'the refresh token was sent to an opaque origin');
});

test('an error_uri that is no string is left out', async () => {
  const b = browser({ route: () => json(400, { error: 'invalid_client', error_uri: { href: 'https://as.example/' } }) });
  const r = await b.client.login('johndoe', 'foobar42');
  assert.equal(r.error, 'invalid_client');
  assert.equal('error_uri' in r, false);
});

test('configure() keeps only the settings it knows', () => {
  const b = browser();
  const c = b.client.configure({ clientId: 'demo-spa', bogus: 1 });
  assert.equal(c.clientId, 'demo-spa');
  assert.equal('bogus' in c, false);
  assert.equal('bogus' in b.client.configure(), false);
});

test('a session logged in without a client_id is revoked without one, whatever clientId configure() sets later', async () => {
  // As with a session's client_id: the revocation names the client the
  // tokens were issued to (here none), on logout as on the next login.
  const b = browser({
    route: (call) => (call.url === TOKEN_URL ? tokenResponse('a1', 'r1', 3600) : new Response('', { status: 200 })),
  });
  b.client.configure({ revokeEndpoint: '/oauth2/revoke' });
  for (const end of ['login', 'logout']) {
    b.client.configure({ clientId: '' });
    assert.equal((await b.client.login('johndoe', 'foobar42')).error, undefined);
    b.client.configure({ clientId: 'later-client' });
    b.calls.length = 0;
    if (end === 'login') await b.client.login('johndoe', 'foobar42');
    else await b.client.logout();
    const rv = b.calls.filter((c) => c.url === ORIGIN + '/oauth2/revoke');
    assert.equal(rv.length, 1, end);
    assert.equal(rv[0].body.get('token'), 'r1', end);
    assert.equal(rv[0].body.get('client_id'), null, end);
  }
});

test('an invalid URL rejects, logged in or not, and nothing is sent', async () => {
  // window.fetch rejects a URL it cannot parse; the client must not send
  // something else (the URL "null", with the token) instead.
  for (const login of [false, true]) {
    const b = login ? await loggedIn() : browser({ route: () => json(200, {}) });
    await assert.rejects(b.client.fetch('http://['), TypeError, login ? 'logged in' : 'logged out');
    assert.equal(b.calls.length, 0, login ? 'logged in' : 'logged out');
  }
});

test('the Retry-After of an answer whose body cannot be read reaches the caller', async () => {
  const b = browser({
    route: () => ({ status: 503, ok: false, statusText: '', headers: new Headers({ 'Retry-After': '7' }), text: () => Promise.reject(new TypeError('network error')) }),
  });
  const r = await b.client.login('johndoe', 'foobar42');
  assert.equal(r.error, 'server_error');
  assert.equal(r.retry_after, 7);
});
