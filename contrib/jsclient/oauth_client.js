/*
 * oauth_client.js: the browser client of oauth2provider.
 *
 * One file, no dependencies, no build step. Load it as a classic script:
 *
 *   <script src="/js/oauth_client.js" data-client-id="demo-spa"
 *           data-revoke-endpoint="/oauth2/revoke"></script>
 *
 * It exposes window.OAuthClient and turns every <form class="oauth"> into a
 * password-grant login (RFC 6749 section 4.3). Tokens are kept in this file's
 * closure only: never in the URL, localStorage, sessionStorage or a cookie,
 * and never handed to page code (a script injected into the page can still
 * read them as they pass through window.fetch: see README.md). Calls made
 * with OAuthClient.fetch carry the access token (same origin only, unless
 * allowedOrigins says otherwise); the token is renewed with the refresh
 * token before it expires and once after a 401. A reload of the page
 * forgets the session: log in again.
 *
 * Every result the client reports is either a success object (the token
 * response minus access_token and refresh_token) or an error object
 * {error, description, status, error_description?, error_uri?}; see README.md.
 */
(function (global) {
  'use strict';

  // Loaded twice (two <script> tags for it): the first client stays, alone.
  // A second one would handle every form.oauth too (two logins per submit)
  // and hide the first, whose session no logout() could end. (An element
  // with id="OAuthClient", which the browser also names window.OAuthClient,
  // is no client. Nor is a frame named OAuthClient: its window is not
  // frozen, and of another origin it throws on every property read, which
  // would stop this script and leave every form.oauth to the browser.)
  var loaded = null;
  try {
    loaded = global.OAuthClient;
    loaded = loaded && Object.isFrozen(loaded) && typeof loaded.login === 'function' &&
      typeof loaded.fetch === 'function' ? loaded : null;
  } catch (e) {
    loaded = null;
  }
  if (loaded) return;

  var config = {
    tokenEndpoint: '/oauth2/token',
    revokeEndpoint: '',
    clientId: '',
    scope: '',
    allowedOrigins: [],
    refreshRatio: 0.8,
    timeout: 30000,
    onSessionEnd: null
  };

  // The session, in memory only. generation changes on every login and
  // logout, so an answer that arrives late cannot revive an old session.
  var accessToken = '';
  var refreshToken = '';
  var expiresAt = 0; // ms since the epoch; 0 means unknown
  var sessionClientId = '';
  var sessionTokenEndpoint = '';
  // Where the session's tokens may go, fixed when the session starts: a
  // script on the page that calls configure() later cannot send the
  // refresh token (logout) or the access token (fetch) anywhere else.
  var sessionRevokeEndpoint = '';
  var sessionAllowedOrigins = [];
  var generation = 0;
  var refreshing = null; // the one in-flight refresh, shared by all callers
  // Resolves, once the in-flight refresh has settled after the session
  // ended, to whether the grant it may have rotated is revoked: true when
  // there is nothing left to revoke or the new refresh token was revoked.
  var refreshingRevoked = null;
  var timer = null;

  function now() {
    return Date.now();
  }

  function errorObject(error, status, description) {
    return { error: error, status: status, description: description };
  }

  // retryAfter returns the seconds a response's Retry-After header asks to
  // wait (RFC 9110 section 10.2.3: delta-seconds or an HTTP-date), or -1
  // when it has none that can be read.
  function retryAfter(res) {
    var v = res.headers && typeof res.headers.get === 'function' ? res.headers.get('Retry-After') : null;
    if (!v) return -1;
    v = String(v).trim();
    if (/^[0-9]+$/.test(v)) return Number(v);
    // Every HTTP-date form begins with the day's name; Date.parse alone
    // would take "1.5" or "-5" for dates of 2001, read as "retry now".
    if (!/^[A-Za-z]{3,9},? /.test(v)) return -1;
    var at = Date.parse(v);
    if (isNaN(at)) return -1;
    return Math.max(0, Math.ceil((at - now()) / 1000));
  }

  // readResult turns a token-endpoint answer into a success object (with the
  // tokens still inside, for internal use) or an error object. It never
  // throws, whatever the body: JSON, an HTML error page or nothing at all.
  function readResult(res) {
    return res.text().then(function (text) {
      return withRetryAfter(parseResult(res, text), res);
    }, function () {
      return withRetryAfter(errorObject(res.status >= 500 ? 'server_error' : 'invalid_response', res.status,
        'the response body could not be read'), res);
    });
  }

  // withRetryAfter copies the Retry-After of a failed response onto its
  // error object as retry_after (seconds), so that the caller knows when
  // to try again.
  function withRetryAfter(result, res) {
    if (result.error) {
      var secs = retryAfter(res);
      if (secs >= 0) result.retry_after = secs;
    }
    return result;
  }

  // parseResult reads a token-endpoint answer whose body is text.
  function parseResult(res, text) {
    var body = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = null;
      }
    }
    if (body === null || typeof body !== 'object') {
      body = null;
    }
    if (res.ok) {
      if (!body || typeof body.access_token !== 'string' || !body.access_token) {
        return errorObject('invalid_response', res.status,
          'the token endpoint answered HTTP ' + res.status + ' without a token');
      }
      // token_type is required and case-insensitive (RFC 6749 section
      // 5.1); a token of a type this client does not know, or of none,
      // must not be used (section 7.1).
      if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
        return errorObject('invalid_response', res.status,
          'unsupported token type');
      }
      return body;
    }
    if (body && typeof body.error === 'string' && body.error) {
      var err = errorObject(body.error, res.status,
        typeof body.error_description === 'string' ? body.error_description : body.error);
      if (typeof body.error_description === 'string') err.error_description = body.error_description;
      if (typeof body.error_uri === 'string') err.error_uri = body.error_uri;
      err.oauth = true; // the token endpoint's own verdict, not a proxy's page
      return err;
    }
    var code = res.status >= 500 ? 'server_error' : (res.statusText || 'http_' + res.status);
    return errorObject(code, res.status,
      'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '') +
      (text ? ': the server did not answer with JSON' : ': empty response'));
  }

  // post sends an application/x-www-form-urlencoded POST and never rejects.
  // An answer that does not come within config.timeout ms is a
  // network_error: window.fetch has no timeout of its own, and a refresh
  // that hung for ever would hold every call that waits for it. With
  // keepalive the request outlives the page (a logout followed at once by
  // a navigation must still revoke).
  function post(url, params, keepalive) {
    var body = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null && params[k] !== '') {
        body.append(k, params[k]);
      }
    });
    var init = {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8',
        'Accept': 'application/json'
      },
      body: body.toString(),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error'
    };
    if (keepalive) init.keepalive = true;
    var ms = Number(config.timeout);
    var controller = ms > 0 && typeof global.AbortController === 'function'
      ? new global.AbortController() : null;
    if (controller) init.signal = controller.signal;
    var p;
    try {
      p = global.fetch(url, init);
    } catch (e) {
      p = Promise.reject(e);
    }
    var answer = Promise.resolve(p).then(readResult, function (e) {
      return errorObject('network_error', 0, (e && e.message) || 'network error');
    });
    if (!(ms > 0 && isFinite(ms))) return answer;
    var t = null;
    var late = new Promise(function (resolve) {
      t = global.setTimeout(function () {
        t = null;
        if (controller) controller.abort();
        resolve(errorObject('network_error', 0, 'no answer within ' + ms + ' ms'));
      }, Math.min(ms, 2147483647));
    });
    return Promise.race([answer, late]).then(function (r) {
      if (t !== null) global.clearTimeout(t);
      return r;
    });
  }

  // publicResult is what page code sees of a token response: everything but
  // the tokens.
  function publicResult(body) {
    var out = {};
    Object.keys(body).forEach(function (k) {
      if (k !== 'access_token' && k !== 'refresh_token') out[k] = body[k];
    });
    return out;
  }

  function clearTimer() {
    if (timer !== null) {
      global.clearTimeout(timer);
      timer = null;
    }
  }

  function forget() {
    generation++;
    clearTimer();
    accessToken = '';
    refreshToken = '';
    expiresAt = 0;
    refreshing = null;
    refreshingRevoked = null;
    sessionRevokeEndpoint = '';
    sessionAllowedOrigins = [];
  }

  // store keeps a token response and schedules its renewal. A response that
  // carries no new refresh token keeps the current one (RFC 6749 section 6).
  function store(body) {
    clearTimer();
    accessToken = body.access_token;
    if (typeof body.refresh_token === 'string' && body.refresh_token) {
      refreshToken = body.refresh_token;
    }
    var ttl = Number(body.expires_in);
    if (ttl > 0 && isFinite(ttl)) {
      expiresAt = now() + ttl * 1000;
      if (refreshToken) {
        var ratio = Number(config.refreshRatio);
        if (!(ratio > 0 && ratio < 1)) ratio = 0.8;
        // setTimeout fires at once for delays above 2^31-1 ms.
        var delay = Math.min(Math.max(ttl * 1000 * ratio, 1000), 2147483647);
        var gen = generation;
        timer = global.setTimeout(function () {
          timer = null;
          if (gen === generation) refresh();
        }, delay);
      }
    } else {
      expiresAt = 0;
    }
  }

  function sessionEnded(err) {
    forget();
    if (typeof config.onSessionEnd === 'function') {
      try {
        config.onSessionEnd(err);
      } catch (e) {
        // page code must not break the client
      }
    }
  }

  // revokeEndpointFor returns the revocation endpoint a session whose token
  // endpoint is tokenEndpoint may use: the configured one, as an absolute
  // URL (see absolute), when it is on the same origin as the token
  // endpoint (the server that issued the tokens), else none.
  function revokeEndpointFor(tokenEndpoint) {
    var endpoint = config.revokeEndpoint;
    if (!endpoint) return '';
    var origin = originOf(endpoint);
    if (!origin || origin === 'null' || origin !== originOf(tokenEndpoint)) return '';
    return absolute(endpoint);
  }

  // absolute returns an endpoint as the absolute URL it names now, for a
  // session to keep: window.fetch resolves a relative URL against the
  // document's base URL at each call, and a <base href> that a script adds
  // to the page later would otherwise take the session's refresh token.
  // A URL that cannot be resolved is kept as it is (fetch rejects it).
  function absolute(url) {
    return resolve(url) || url;
  }

  function revoke(token, endpoint, clientId) {
    if (!endpoint || !token) return Promise.resolve(false);
    return post(endpoint, {
      token: token,
      token_type_hint: 'refresh_token',
      client_id: clientId
    }, true).then(function (r) {
      return !r.error || r.status === 200;
    });
  }

  /**
   * refresh renews the tokens with the refresh token. Concurrent callers
   * share one request. Resolves to a success object or an error object; never
   * rejects. An OAuth error (JSON) from the token endpoint with a 4xx status
   * (the refresh token was refused) ends the session; a network error, a
   * 5xx, a 408 or 429, or a 4xx page that is no OAuth error (a proxy's HTML
   * 403, say) keeps it for a later try.
   */
  function refresh() {
    if (refreshing) return refreshing;
    if (!refreshToken) {
      return Promise.resolve(errorObject('invalid_grant', 0, 'not logged in'));
    }
    var gen = generation;
    var endpoint = sessionTokenEndpoint;
    var clientId = sessionClientId;
    var revokeEndpoint = sessionRevokeEndpoint;
    var settleRevoked;
    var revoked = new Promise(function (resolve) { settleRevoked = resolve; });
    var p = post(endpoint, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId
    }).then(function (r) {
      if (gen !== generation) {
        // Logged out (or in again) meanwhile: drop what came back, and
        // revoke the grant it carries on, which the revocation of the
        // consumed refresh token did not end.
        if (!r.error) {
          settleRevoked(typeof r.refresh_token === 'string' && r.refresh_token
            ? revoke(r.refresh_token, revokeEndpoint, clientId) : true);
        } else {
          // Refused: the old refresh token was not rotated. No answer
          // (status 0): whether the server rotated it is unknown.
          settleRevoked(r.status !== 0);
        }
        return errorObject('invalid_grant', 0, 'the session ended during the refresh');
      }
      settleRevoked(true);
      refreshing = null;
      refreshingRevoked = null;
      if (r.error) {
        var refused = r.oauth && r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429;
        delete r.oauth;
        if (refused) sessionEnded(r);
        return r;
      }
      store(r);
      return publicResult(r);
    });
    refreshing = p;
    refreshingRevoked = revoked;
    return p;
  }

  /**
   * login runs the password grant. Resolves to a success object or an error
   * object; never rejects. options: clientId, scope, tokenEndpoint.
   */
  function login(username, password, options) {
    options = options || {};
    var endpoint = absolute(options.tokenEndpoint || config.tokenEndpoint);
    var clientId = options.clientId || config.clientId;
    var scope = options.scope !== undefined ? options.scope : config.scope;
    var previous = refreshToken || accessToken;
    var previousClient = sessionClientId;
    var previousRevoke = sessionRevokeEndpoint;
    forget();
    if (previous) revoke(previous, previousRevoke, previousClient);
    var gen = generation;
    var revokeEndpoint = revokeEndpointFor(endpoint);
    var allowedOrigins = absoluteOrigins(config.allowedOrigins);
    return post(endpoint, {
      grant_type: 'password',
      username: username,
      password: password,
      client_id: clientId,
      scope: scope
    }).then(function (r) {
      if (r.error) {
        delete r.oauth; // internal: the page gets the documented fields
        return r;
      }
      if (gen !== generation) {
        // Logged out (or in again) meanwhile: end the grant nobody holds.
        revoke(r.refresh_token || r.access_token, revokeEndpoint, clientId);
        return errorObject('invalid_grant', 0, 'superseded by another login or a logout');
      }
      sessionClientId = clientId;
      sessionTokenEndpoint = endpoint;
      sessionRevokeEndpoint = revokeEndpoint;
      sessionAllowedOrigins = allowedOrigins;
      store(r);
      return publicResult(r);
    });
  }

  /**
   * logout forgets the tokens at once and, when a revocation endpoint is
   * configured, revokes the refresh token there (RFC 7009). Resolves to true
   * when the server confirmed the revocation; never rejects, also when the
   * endpoint is missing (404) or unreachable.
   */
  function logout() {
    var token = refreshToken || accessToken;
    // The client the tokens were issued to, none included: not the one
    // configure() names now.
    var clientId = sessionClientId;
    var endpoint = sessionRevokeEndpoint;
    // A refresh in flight may rotate the refresh token on the server
    // before the revocation of the old one arrives, which then ends
    // nothing: the logout is confirmed once the token it brings is
    // revoked too.
    var rotated = refreshingRevoked;
    forget();
    var first = revoke(token, endpoint, clientId);
    if (!rotated || !endpoint) return first;
    return Promise.all([first, rotated]).then(function (v) { return v[0] && v[1]; });
  }

  // baseURL is what window.fetch resolves a relative URL against: the
  // document's base URL (a <base href> element may name another origin),
  // else the page's URL.
  function baseURL() {
    var d = global.document;
    return (d && typeof d.baseURI === 'string' && d.baseURI) || global.location.href;
  }

  function resolve(url) {
    try {
      return new URL(url, baseURL()).href;
    } catch (e) {
      return null;
    }
  }

  function originOf(url) {
    try {
      return new URL(url, baseURL()).origin;
    } catch (e) {
      return null;
    }
  }

  function tokenAllowedFor(url) {
    var origin = originOf(url);
    if (!origin || origin === 'null') return false;
    if (origin === global.location.origin) return true;
    return sessionAllowedOrigins.indexOf(origin) >= 0;
  }

  // absoluteOrigins returns the origins of the absolute URLs in list (an
  // array, or one string). An entry that is no absolute URL ("api.example",
  // a host without its scheme) is dropped: read against the document's base
  // URL it would name the base's origin, which a <base href> injected into
  // the page chooses.
  function absoluteOrigins(list) {
    var out = [];
    (Array.isArray(list) ? list : (list ? [list] : [])).forEach(function (o) {
      var origin;
      try {
        origin = new URL(String(o)).origin;
      } catch (e) {
        return;
      }
      if (origin && origin !== 'null') out.push(origin);
    });
    return out;
  }

  function isRequest(input) {
    return input !== null && typeof input === 'object' &&
      typeof input.url === 'string' && typeof input.clone === 'function';
  }

  function withToken(input, init, token) {
    var headers = new Headers(init && init.headers !== undefined ? init.headers
      : (isRequest(input) ? input.headers : undefined));
    headers.set('Authorization', 'Bearer ' + token);
    var out = {};
    if (init) Object.keys(init).forEach(function (k) { out[k] = init[k]; });
    out.headers = headers;
    return out;
  }

  /**
   * fetch is window.fetch with the access token: for URLs of the page's own
   * origin (or of the allowedOrigins the session started with) it adds
   * Authorization: Bearer, first
   * refreshing an expired token; on a 401 it refreshes once and retries once
   * (unless init.body is a stream, which cannot be sent twice: then the 401
   * is returned).
   * Any other URL, or a call that sets its own Authorization header, is
   * passed to window.fetch untouched. Like window.fetch, it never throws:
   * a bad argument (an invalid header value, say) rejects the promise.
   */
  function authFetch(input, init) {
    try {
      return sendWithToken(input, init);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  function sendWithToken(input, init) {
    var url = isRequest(input) ? input.url : resolve(String(input));
    if (url === null) return global.fetch(input, init); // fetch rejects it
    // Fetch the very URL whose origin is checked (an object's toString
    // could answer differently the next time).
    if (!isRequest(input)) input = url;
    var given = init && init.headers !== undefined ? init.headers
      : (isRequest(input) ? input.headers : undefined);
    var own = new Headers(given).has('Authorization');
    if (!accessToken || own || !tokenAllowedFor(url)) {
      return global.fetch(input, init);
    }
    var spare = isRequest(input) ? input.clone() : input;
    // A stream body (init.body a ReadableStream) is consumed by the first
    // request: the retry after a 401 could not send it again.
    var replayable = !(init && init.body && typeof init.body.getReader === 'function');
    var signal = init && init.signal ? init.signal : (isRequest(input) ? input.signal : null);
    // The session whose origins were checked: a token of a later one
    // (after a logout and a login while this call waited) is not sent.
    var gen = generation;
    var ready = expiresAt && now() >= expiresAt && refreshToken
      ? refresh() : Promise.resolve(null);
    return unlessAborted(ready, signal).then(function () {
      // Aborted while waiting: window.fetch rejects it (AbortError) at
      // once, without the token.
      if (!accessToken || gen !== generation || isAborted(signal)) return global.fetch(input, init);
      var used = accessToken;
      return global.fetch(input, withToken(input, init, used)).then(function (res) {
        if (res.status !== 401 || !accessToken || gen !== generation) return res;
        var renewed = used !== accessToken ? Promise.resolve(null)
          : (refreshToken ? refresh() : Promise.resolve({ error: 'invalid_token' }));
        return unlessAborted(renewed, signal).then(function (r) {
          if (isAborted(signal)) return global.fetch(spare, init);
          if ((r && r.error) || !accessToken || accessToken === used || gen !== generation || !replayable) return res;
          return global.fetch(spare, withToken(spare, init, accessToken));
        });
      });
    });
  }

  function isAborted(signal) {
    return !!(signal && signal.aborted);
  }

  // unlessAborted settles like p, or with null as soon as signal aborts: a
  // call the caller gave up on does not wait for a refresh (which may take
  // up to config.timeout) to learn so.
  function unlessAborted(p, signal) {
    if (!signal || typeof signal.addEventListener !== 'function') return p;
    return new Promise(function (resolve) {
      function onAbort() { resolve(null); }
      if (signal.aborted) return resolve(null);
      signal.addEventListener('abort', onAbort);
      p.then(function (v) {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      });
    });
  }

  // builtin returns the built-in property name of the DOM interface iface
  // (window.Element, ...) of el, read through the interface's prototype:
  // a form's named properties (its fields, and any <input form="id">
  // that markup injected elsewhere in the page joins to it) come before
  // its built-in ones, so form.classList may be an <input
  // name="classList">, which would leave the form to the browser. Where
  // the interface is missing, el[name]; undefined when el is no such
  // element.
  function builtin(el, iface, name) {
    var I = global[iface];
    var d = typeof I === 'function' && I.prototype
      ? Object.getOwnPropertyDescriptor(I.prototype, name) : null;
    try {
      return !d ? el[name] : (d.get ? d.get.call(el) : d.value);
    } catch (e) {
      return undefined;
    }
  }

  function fieldValue(form, name) {
    var elements = builtin(form, 'HTMLFormElement', 'elements');
    var el = elements && typeof elements.namedItem === 'function'
      ? elements.namedItem(name) : null;
    return el && typeof el.value === 'string' ? el.value : '';
  }

  function respond(result, form) {
    var handler = global.oauthResponseHandler;
    if (typeof handler === 'function') {
      handler(result, form);
    }
  }

  var busy = typeof WeakSet === 'function' ? new WeakSet() : null;

  // onSubmit handles every <form class="oauth">, including forms added to the
  // page later (the listener sits on the document).
  function onSubmit(event) {
    var form = event.target;
    var classes = form ? builtin(form, 'Element', 'classList') : null;
    if (!classes || typeof classes.contains !== 'function' || !classes.contains('oauth')) return;
    // Cancelled by page code (a listener on the form runs first): the
    // page chose not to submit, so the password is not sent.
    if (event.defaultPrevented) return;
    event.preventDefault();
    if (busy) {
      if (busy.has(form)) return;
      busy.add(form);
    }
    var data = builtin(form, 'HTMLElement', 'dataset') || {};
    var getAttribute = builtin(form, 'Element', 'getAttribute');
    var action = typeof getAttribute === 'function' ? getAttribute.call(form, 'action') : null;
    var options = {
      tokenEndpoint: action || config.tokenEndpoint,
      clientId: data.clientId || fieldValue(form, 'client_id') || config.clientId,
      scope: data.scope || fieldValue(form, 'scope') || config.scope
    };
    login(fieldValue(form, 'username'), fieldValue(form, 'password'), options)
      .then(function (result) {
        if (!result.error) {
          var elements = builtin(form, 'HTMLFormElement', 'elements');
          var pw = elements && typeof elements.namedItem === 'function'
            ? elements.namedItem('password') : null;
          if (pw && 'value' in pw) pw.value = '';
        }
        if (busy) busy.delete(form);
        respond(result, form);
      });
  }

  /**
   * configure changes the settings and returns the current ones. A session
   * keeps the token endpoint, revokeEndpoint (both as the absolute URLs they
   * named when it started) and allowedOrigins it started with: a change
   * takes effect at the next login. A revokeEndpoint on another origin
   * than the token endpoint is not used. Settings:
   * tokenEndpoint (default "/oauth2/token"), revokeEndpoint (default none),
   * clientId, scope, allowedOrigins (extra origins that may receive the
   * token, e.g. ["https://api.example.com"]; an entry that is no absolute
   * URL is ignored), refreshRatio (0.8: renew at 80%
   * of expires_in), timeout (30000: ms a token-endpoint or revocation
   * request may take before it counts as a network_error), onSessionEnd (called with the error object when a
   * refresh is refused and the session is over).
   */
  function configure(options) {
    if (options) {
      Object.keys(config).forEach(function (k) {
        if (options[k] !== undefined) config[k] = options[k];
      });
    }
    var copy = {};
    Object.keys(config).forEach(function (k) { copy[k] = config[k]; });
    copy.allowedOrigins = (config.allowedOrigins || []).slice();
    return copy;
  }

  // currentScript returns the <script> element running this file, or
  // null. Not doc.currentScript: markup injected before this tag (an <img
  // name="currentScript">, no script needed) is what the document's named
  // properties answer for it, and its data- attributes would choose where
  // the password and the tokens go. Document.prototype's own getter is
  // asked instead, and only a <script> element is believed.
  function currentScript(d) {
    var D = global.Document;
    var desc = typeof D === 'function' && D.prototype
      ? Object.getOwnPropertyDescriptor(D.prototype, 'currentScript') : null;
    var s = desc && typeof desc.get === 'function' ? desc.get.call(d) : null;
    var S = global.HTMLScriptElement;
    return typeof S === 'function' && s instanceof S ? s : null;
  }

  // Settings from the <script> tag's data- attributes, so a page needs no
  // inline script (friendly to a strict Content-Security-Policy).
  var doc = global.document;
  var script = doc ? currentScript(doc) : null;
  if (script && script.dataset) {
    var d = script.dataset;
    configure({
      clientId: d.clientId,
      scope: d.scope,
      tokenEndpoint: d.tokenEndpoint,
      revokeEndpoint: d.revokeEndpoint,
      allowedOrigins: d.allowedOrigins ? d.allowedOrigins.split(/\s+/).filter(Boolean) : undefined
    });
  }
  // Through EventTarget.prototype, not doc.addEventListener: markup
  // injected before this tag (an <img name="addEventListener">) overrides
  // that, and every form.oauth would be left to the browser, which posts
  // the password itself.
  var ET = global.EventTarget;
  var listen = typeof ET === 'function' && ET.prototype ? ET.prototype.addEventListener : null;
  if (doc && typeof listen === 'function') {
    listen.call(doc, 'submit', onSubmit);
  }

  global.OAuthClient = Object.freeze({
    version: '1',
    configure: configure,
    login: login,
    refresh: refresh,
    fetch: authFetch,
    logout: logout,
    isAuthenticated: function () { return accessToken !== ''; }
  });
})(typeof window !== 'undefined' ? window : this);
