import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browser, json, tokenResponse, flush, makeForm, ORIGIN } from './harness.mjs';

// page loads the script with a recording window.oauthResponseHandler.
function page(route) {
  const b = browser({ route });
  const seen = [];
  b.window.oauthResponseHandler = (result, form) => seen.push({ result, form });
  return { b, seen };
}

const loginForm = (extra = {}) => makeForm({ fields: { username: 'johndoe', password: 'foobar42' }, ...extra });

test('submitting a form.oauth posts a password grant and calls oauthResponseHandler', async () => {
  const { b, seen } = page(() => tokenResponse('a1', 'r1', 3600));
  const form = loginForm({ dataset: { clientId: 'demo-spa', scope: 'read' } });
  const event = b.submit(form);
  assert.equal(event.defaultPrevented, true, 'the browser must not submit the form itself');
  await flush();

  assert.equal(b.calls.length, 1);
  const call = b.calls[0];
  assert.equal(call.url, ORIGIN + '/oauth2/token', 'default endpoint when the form has no action');
  assert.equal(call.method, 'POST');
  assert.deepEqual(Object.fromEntries(call.body), {
    grant_type: 'password', username: 'johndoe', password: 'foobar42', client_id: 'demo-spa', scope: 'read',
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].form, form);
  assert.deepEqual({ ...seen[0].result }, { token_type: 'Bearer', expires_in: 3600, scope: 'read write', user_id: 'johndoe' });
  assert.equal(form.fields.password.value, '', 'the password field is cleared after a login');
  assert.equal(form.fields.username.value, 'johndoe');
  assert.equal(b.client.isAuthenticated(), true);
});

test('the form\'s action and hidden client_id input are used', async () => {
  const { b, seen } = page(() => tokenResponse('a1', 'r1'));
  b.submit(makeForm({ action: '/auth/token', fields: { username: 'u', password: 'p', client_id: 'hidden-client' } }));
  await flush();
  assert.equal(b.calls[0].url, ORIGIN + '/auth/token');
  assert.equal(b.calls[0].body.get('client_id'), 'hidden-client');
  assert.equal(b.calls[0].body.has('scope'), false, 'no empty scope parameter');
  assert.equal(seen.length, 1);
  // Refreshes go to the endpoint the session was created at.
  await b.client.refresh();
  assert.equal(b.calls[1].url, ORIGIN + '/auth/token');
  assert.equal(b.calls[1].body.get('client_id'), 'hidden-client');
});

test('forms without the oauth class are left alone', async () => {
  const { b, seen } = page(() => tokenResponse('a1', 'r1'));
  const event = b.submit(makeForm({ classes: ['search'], fields: { q: 'x' } }));
  await flush();
  assert.equal(event.defaultPrevented, false);
  assert.equal(b.calls.length, 0);
  assert.equal(seen.length, 0);
});

test('a second submit while the first is in flight is ignored', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const { b, seen } = page(async () => { await gate; return tokenResponse('a1', 'r1'); });
  const form = loginForm();
  b.submit(form);
  await flush();
  assert.equal(b.submit(form).defaultPrevented, true);
  release();
  await flush();
  assert.equal(b.calls.length, 1);
  assert.equal(seen.length, 1);
});

// Every failure reaches oauthResponseHandler as an error object; none throws.
test('errors reach oauthResponseHandler as error objects', async (t) => {
  const cases = [
    {
      name: 'RFC 6749 §5.2 JSON error is passed through',
      answer: () => json(400, { error: 'invalid_grant', error_description: 'wrong username or password' }, 'Bad Request'),
      want: { error: 'invalid_grant', status: 400, description: 'wrong username or password', error_description: 'wrong username or password' },
    },
    {
      name: 'HTML 502 from a proxy is a server_error',
      answer: () => new Response('<html><body><h1>502 Bad Gateway</h1></body></html>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } }),
      want: { error: 'server_error', status: 502 },
    },
    {
      name: 'empty 500 is a server_error',
      answer: () => new Response(null, { status: 500, statusText: 'Internal Server Error' }),
      want: { error: 'server_error', status: 500 },
    },
    {
      name: 'HTML 404 carries the status text',
      answer: () => new Response('<h1>nope</h1>', { status: 404, statusText: 'Not Found' }),
      want: { error: 'Not Found', status: 404 },
    },
    {
      name: 'non-JSON 4xx without status text',
      answer: () => new Response('', { status: 429 }),
      want: { error: 'http_429', status: 429 },
    },
    {
      name: 'JSON that is not an error object',
      answer: () => new Response('["error"]', { status: 400, statusText: 'Bad Request' }),
      want: { error: 'Bad Request', status: 400 },
    },
    {
      name: '200 with an HTML body is an invalid_response',
      answer: () => new Response('<html>login page</html>', { status: 200 }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      name: '200 JSON without an access token is an invalid_response',
      answer: () => json(200, { token_type: 'Bearer' }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      name: 'a token type other than bearer is an invalid_response',
      answer: () => json(200, { access_token: 'x', token_type: 'mac' }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      // RFC 6749 section 5.1: token_type is REQUIRED; section 7.1: the
      // client must not use a token whose type it does not understand.
      name: 'a token response without token_type is an invalid_response',
      answer: () => json(200, { access_token: 'x', expires_in: 3600 }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      name: 'a token_type that is no string is an invalid_response',
      answer: () => json(200, { access_token: 'x', token_type: ['bearer'] }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      name: 'an OAuth error without error_description is described by its code',
      answer: () => json(400, { error: 'invalid_grant' }, 'Bad Request'),
      want: { error: 'invalid_grant', status: 400, description: 'invalid_grant' },
      absent: ['error_description', 'error_uri'],
    },
    {
      // An empty error would be a falsy result.error: a success to page code.
      name: 'a JSON error whose error is empty is no OAuth error',
      answer: () => json(400, { error: '' }, 'Bad Request'),
      want: { error: 'Bad Request', status: 400 },
    },
    {
      name: 'a JSON error whose error is no string is no OAuth error',
      answer: () => json(400, { error: 42, error_description: 'x' }, 'Bad Request'),
      want: { error: 'Bad Request', status: 400 },
      absent: ['error_description'],
    },
    {
      name: 'a 2xx other than 200 without a token is an invalid_response',
      answer: () => new Response(null, { status: 204 }),
      want: { error: 'invalid_response', status: 204 },
    },
    {
      name: 'an empty access_token is an invalid_response',
      answer: () => json(200, { access_token: '', token_type: 'Bearer' }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      name: 'an access_token that is no string is an invalid_response',
      answer: () => json(200, { access_token: 12345, token_type: 'Bearer' }),
      want: { error: 'invalid_response', status: 200 },
    },
    {
      name: 'a network failure is a network_error',
      answer: () => { throw new TypeError('Failed to fetch'); },
      want: { error: 'network_error', status: 0, description: 'Failed to fetch' },
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const { b, seen } = page(c.answer);
      const form = loginForm();
      b.submit(form);
      await flush();
      assert.equal(seen.length, 1);
      const got = seen[0].result;
      for (const [k, v] of Object.entries(c.want)) assert.equal(got[k], v, k);
      for (const k of c.absent || []) assert.ok(!(k in got), k);
      assert.deepEqual(Object.keys(got).filter((k) => !['error', 'status', 'description', 'error_description', 'error_uri', 'retry_after'].includes(k)), [],
        'only the documented fields');
      assert.equal(typeof got.description, 'string');
      assert.ok(got.description.length > 0);
      assert.ok(!got.description.includes('<'), 'no HTML in the description');
      assert.equal(b.client.isAuthenticated(), false);
      assert.equal(form.fields.password.value, 'foobar42', 'the password stays for a retry');
    });
  }
});

test('a form submit without a handler does not throw', async () => {
  const b = browser({ route: () => tokenResponse('a1', 'r1') });
  b.submit(loginForm());
  await flush();
  assert.equal(b.client.isAuthenticated(), true);
});

test('a page that loads the script twice still logs in once per submit', async () => {
  // A second <script src=".../oauth_client.js"> (a layout and a page that
  // both include it) must not add a second client: two submit listeners
  // sent two password grants, and the first client's session, which no
  // page code could reach any more (window.OAuthClient was the second),
  // lived on, its refresh token renewed by its timer, past logout().
  const { b, seen } = page(() => tokenResponse('a1', 'r1', 3600));
  const first = b.client;
  b.loadAgain();
  assert.equal(b.window.OAuthClient, first, 'the first client stays');
  b.submit(loginForm({ dataset: { clientId: 'demo-spa' } }));
  await flush();
  assert.equal(b.calls.length, 1, 'one password grant');
  assert.equal(seen.length, 1, 'one call of oauthResponseHandler');
});

test('an element named OAuthClient does not stop the script from loading', () => {
  // <div id="OAuthClient"> is window.OAuthClient until the script runs.
  const b = browser({ route: () => tokenResponse('a1', 'r1') });
  b.window.OAuthClient = { tagName: 'DIV', id: 'OAuthClient' };
  b.loadAgain();
  assert.equal(typeof b.window.OAuthClient.login, 'function');
});

test('a submit the page has already cancelled sends nothing', async () => {
  // Page code that stops a submit (its own check of the fields, a
  // confirmation) calls event.preventDefault() in a listener on the form,
  // which runs before the script's one on the document: the password
  // must not be sent anyway.
  const { b, seen } = page(() => tokenResponse('a1', 'r1'));
  const form = loginForm();
  const event = { type: 'submit', target: form, defaultPrevented: true, preventDefault() { this.defaultPrevented = true; } };
  for (const fn of b.listeners.submit) fn(event);
  await flush();
  assert.equal(b.calls.length, 0, 'no password grant');
  assert.equal(seen.length, 0);
  assert.equal(b.client.isAuthenticated(), false);
  // The next submit, not cancelled, logs in.
  b.submit(form);
  await flush();
  assert.equal(b.calls.length, 1);
});

test('a form whose login failed can be submitted again', async () => {
  let n = 0;
  const { b, seen } = page(() => (++n === 1 ? json(400, { error: 'invalid_grant' }) : tokenResponse('a1', 'r1')));
  const form = loginForm();
  b.submit(form);
  await flush();
  assert.equal(seen[0].result.error, 'invalid_grant');
  b.submit(form);
  await flush();
  assert.equal(b.calls.length, 2, 'the second submit was ignored');
  assert.equal(seen.length, 2);
  assert.equal(b.client.isAuthenticated(), true);
});

test('document.addEventListener clobbered by injected markup does not stop the forms being handled', async () => {
  // <img name="addEventListener"> before the script: the document's named
  // properties come before its built-in addEventListener. Unhandled, every
  // form.oauth would be submitted by the browser itself.
  const b = browser({ named: { addEventListener: { tagName: 'IMG' } }, route: () => tokenResponse('a1', 'r1') });
  const seen = [];
  b.window.oauthResponseHandler = (result) => seen.push(result);
  const event = b.submit(loginForm());
  assert.equal(event.defaultPrevented, true, 'the browser must not submit the form itself');
  await flush();
  assert.equal(b.calls.length, 1);
  assert.equal(seen.length, 1);
  assert.equal(b.client.isAuthenticated(), true);
});

test('a form whose built-in properties injected inputs override is still handled', async () => {
  const { b, seen } = page(() => tokenResponse('a1', 'r1'));
  // The browser's interfaces: their prototypes hold the built-in properties.
  class Element {
    get classList() { return this.real.classList; }
    getAttribute(name) { return this.real.getAttribute(name); }
  }
  class HTMLElement extends Element { get dataset() { return this.real.dataset; } }
  class HTMLFormElement extends HTMLElement { get elements() { return this.real.elements; } }
  Object.assign(b.window, { Element, HTMLElement, HTMLFormElement });
  const real = loginForm({ action: '/auth/token', dataset: { clientId: 'demo-spa' } });
  const form = Object.create(HTMLFormElement.prototype);
  form.real = real;
  // <input form="login" name="classList"> and the like, injected anywhere
  // in the page: the form's named properties come before its built-in ones.
  const input = { tagName: 'INPUT', value: '' };
  for (const name of ['classList', 'getAttribute', 'dataset', 'elements']) {
    Object.defineProperty(form, name, { value: input });
  }
  const event = b.submit(form);
  assert.equal(event.defaultPrevented, true, 'the browser must not submit the form itself');
  await flush();
  assert.equal(b.calls.length, 1);
  assert.equal(b.calls[0].url, ORIGIN + '/auth/token');
  assert.deepEqual(Object.fromEntries(b.calls[0].body), {
    grant_type: 'password', username: 'johndoe', password: 'foobar42', client_id: 'demo-spa',
  });
  assert.equal(seen.length, 1);
  assert.equal(real.fields.password.value, '', 'the password field is cleared after a login');
});

test('a submit event on something that is no element is left alone', () => {
  const { b } = page(() => tokenResponse('a1', 'r1'));
  class Element { get classList() { if (!(this instanceof Element)) throw new TypeError('Illegal invocation'); return null; } }
  b.window.Element = Element;
  const event = b.submit({ nodeType: 9 });
  assert.equal(event.defaultPrevented, false);
  assert.equal(b.calls.length, 0);
});

test('a frame named OAuthClient does not stop the script from loading', () => {
  // <iframe name="OAuthClient"> is window.OAuthClient until the script
  // runs: the frame's window, which throws on reading a property when the
  // frame is of another origin, and which may hold functions named login
  // and fetch when it is of this one.
  const b = browser({ route: () => tokenResponse('a1', 'r1') });
  const crossOrigin = new Proxy({}, { get() { throw new Error('SecurityError: Blocked a frame from accessing a cross-origin frame'); } });
  const sameOrigin = { login() {}, fetch() {}, window: null };
  for (const frame of [crossOrigin, sameOrigin]) {
    b.window.OAuthClient = frame;
    b.loadAgain();
    assert.notEqual(b.window.OAuthClient, frame);
    assert.equal(typeof b.window.OAuthClient.logout, 'function');
  }
});

test('a form\'s client_id and scope: data- attribute first, then the field, then the configured one', async () => {
  const { b } = page(() => tokenResponse('a1', 'r1'));
  b.client.configure({ clientId: 'configured-client', scope: 'configured-scope' });
  const sent = async (form) => {
    b.calls.length = 0;
    b.submit(form);
    await flush();
    return [b.calls[0].body.get('client_id'), b.calls[0].body.get('scope')];
  };
  const fields = { username: 'u', password: 'p', client_id: 'field-client', scope: 'field-scope' };
  assert.deepEqual(await sent(makeForm({ dataset: { clientId: 'data-client', scope: 'data-scope' }, fields })), ['data-client', 'data-scope']);
  assert.deepEqual(await sent(makeForm({ fields })), ['field-client', 'field-scope']);
  assert.deepEqual(await sent(makeForm({ fields: { username: 'u', password: 'p' } })), ['configured-client', 'configured-scope']);
});

test('only a frozen object with login and fetch is taken for a client loaded before', () => {
  const b = browser({ route: () => tokenResponse('a1', 'r1') });
  const throwing = new Proxy({}, { isExtensible() { throw new Error('SecurityError'); } });
  const others = [Object.freeze({ login() {} }), Object.freeze({ fetch() {} }), throwing];
  for (const other of others) {
    b.window.OAuthClient = other;
    b.loadAgain();
    assert.notEqual(b.window.OAuthClient, other);
    assert.equal(typeof b.window.OAuthClient.logout, 'function');
  }
});

test('oauthResponseHandler may submit the form again at once', async () => {
  // The login is over when the handler runs: a page that retries from
  // it (say after a transient error) must not be ignored as a double submit.
  let n = 0;
  const b = browser({ route: () => (++n === 1 ? json(503, { error: 'temporarily_unavailable' }) : tokenResponse('a1', 'r1')) });
  const form = loginForm();
  b.window.oauthResponseHandler = (result) => { if (result.error) b.submit(form); };
  b.submit(form);
  await flush();
  assert.equal(b.calls.length, 2, 'the handler\'s submit was ignored');
  assert.equal(b.client.isAuthenticated(), true);
});

test('a window.oauthResponseHandler that is no function (an element named so) is not called', async () => {
  // <img name="oauthResponseHandler"> is window.oauthResponseHandler: the
  // login goes on, and nothing throws.
  const rejections = [];
  const onRejection = (e) => rejections.push(e);
  process.on('unhandledRejection', onRejection);
  try {
    const b = browser({ route: () => tokenResponse('a1', 'r1') });
    b.window.oauthResponseHandler = { tagName: 'IMG', name: 'oauthResponseHandler' };
    const form = loginForm();
    b.submit(form);
    await flush();
    assert.equal(b.client.isAuthenticated(), true);
    assert.equal(form.fields.password.value, '');
    assert.deepEqual(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});
