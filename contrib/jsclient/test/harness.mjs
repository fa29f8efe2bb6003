// A fake browser for oauth_client.js: the script runs in a vm context with a
// fake window, document, fetch, clock and timers that the tests control.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const source = readFileSync(fileURLToPath(new URL('../oauth_client.js', import.meta.url)), 'utf8');

export const ORIGIN = 'https://app.example';

// HTMLScriptElement stands for the browser's: scriptTag(dataset) is the
// <script> element document.currentScript returns while the script runs.
// Any other object there is what markup injected into the page (an <img
// name="currentScript">) puts in front of it.
export class HTMLScriptElement {
  constructor(dataset) { this.tagName = 'SCRIPT'; this.dataset = dataset; }
}
export const scriptTag = (dataset) => new HTMLScriptElement(dataset);

// Document stands for the browser's: its prototype's currentScript getter
// answers the running <script> element, whatever the document's own
// (named) properties say.
class Document {
  get currentScript() { return this.runningScript; }
}

// EventTarget stands for the browser's: the document's listeners are added
// through its prototype's addEventListener, whatever the document's own
// (named) properties say.
class EventTarget {
  addEventListener(type, fn) { (this.eventListeners[type] ||= []).push(fn); }
}
Object.setPrototypeOf(Document.prototype, EventTarget.prototype);

// json builds a Response with a JSON body.
export function json(status, body, statusText = '') {
  return new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { 'Content-Type': 'application/json' },
  });
}

// tokenResponse is a successful token-endpoint answer.
export function tokenResponse(access, refresh, expiresIn = 3600, extra = {}) {
  const body = { access_token: access, token_type: 'Bearer', expires_in: expiresIn, scope: 'read write', user_id: 'johndoe', ...extra };
  if (refresh) body.refresh_token = refresh;
  return json(200, body);
}

// flush lets pending promise callbacks (and the fake fetches) run.
export async function flush() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

// makeForm builds an object that looks enough like a <form> to the script.
export function makeForm({ classes = ['oauth'], action = null, dataset = {}, fields = {} } = {}) {
  const elements = {};
  for (const [name, value] of Object.entries(fields)) elements[name] = { name, value };
  return {
    classList: { contains: (c) => classes.includes(c) },
    dataset,
    getAttribute: (name) => (name === 'action' ? action : null),
    elements: { namedItem: (name) => elements[name] || null },
    fields: elements,
  };
}

// browser loads the script into a fresh fake page. route(call) answers each
// fetch: call is {url, method, headers (a Headers), body (URLSearchParams or
// null), init, input}; it returns a Response (or a promise of one) or throws to
// simulate a network failure.
// baseURI is the document's base URL (a <base href> element), which
// fetch resolves relative URLs against; it defaults to the page's URL.
// named is the document's named properties (elements with a name
// attribute: <img name="currentScript">), which come before its built-in
// properties, as in a browser.
export function browser({ route = () => json(404, { error: 'not_found' }), currentScript = null, baseURI = ORIGIN + '/page', named = {} } = {}) {
  const clock = { now: 1_700_000_000_000 };
  const timers = new Map();
  let nextTimer = 1;
  const calls = [];
  const listeners = {};
  const storageWrites = [];
  const cookieWrites = [];

  const storage = {
    setItem: (k, v) => storageWrites.push([k, v]),
    getItem: () => null,
    removeItem: () => {},
  };
  const document = Object.create(Document.prototype, Object.getOwnPropertyDescriptors({
    runningScript: currentScript,
    baseURI,
    eventListeners: listeners,
    set cookie(v) { cookieWrites.push(v); },
    get cookie() { return ''; },
  }));
  Object.defineProperties(document, Object.getOwnPropertyDescriptors(named));

  const fetch = async (input, init = {}) => {
    const isReq = typeof input === 'object' && input !== null && typeof input.clone === 'function';
    const url = new URL(isReq ? input.url : String(input), document.baseURI).href;
    const headers = new Headers(init.headers !== undefined ? init.headers : (isReq ? input.headers : undefined));
    const method = init.method || (isReq ? input.method : 'GET');
    const body = typeof init.body === 'string' ? new URLSearchParams(init.body) : null;
    // A stream body is read as it is sent, as window.fetch does: sent once,
    // it cannot be sent again (fetch rejects a locked stream).
    let streamed = null;
    if (init.body && typeof init.body.getReader === 'function') {
      if (init.body.locked) throw new TypeError('Failed to execute \'fetch\': ReadableStream is locked');
      streamed = await new Response(init.body).text();
    }
    const call = { url, method, headers, body, streamed, init, input };
    calls.push(call);
    await null;
    return route(call);
  };

  const window = {
    location: { href: ORIGIN + '/page', origin: ORIGIN },
    document,
    fetch,
    setTimeout: (fn, ms) => { const id = nextTimer++; timers.set(id, { fn, at: clock.now + ms, ms }); return id; },
    clearTimeout: (id) => { timers.delete(id); },
    localStorage: storage,
    sessionStorage: storage,
    Date: { now: () => clock.now, parse: Date.parse },
    URL,
    URLSearchParams,
    Headers,
    HTMLScriptElement,
    Document,
    EventTarget,
    console,
  };
  window.window = window;
  const ctx = vm.createContext(window);
  vm.runInContext(source, ctx, { filename: 'oauth_client.js' });

  return {
    window,
    client: window.OAuthClient,
    calls,
    timers,
    storageWrites,
    cookieWrites,
    // tick moves the clock on by ms and runs the timers that fall due.
    async tick(ms) {
      clock.now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= clock.now) { timers.delete(id); t.fn(); }
      }
      await flush();
    },
    // submit dispatches a submit event for form, as the browser would.
    submit(form) {
      const event = { type: 'submit', target: form, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
      for (const fn of listeners.submit || []) fn(event);
      return event;
    },
    listeners,
    // loadAgain runs the script a second time in the same page, as a
    // second <script src> tag for it would.
    loadAgain() {
      vm.runInContext(source, ctx, { filename: 'oauth_client.js' });
    },
  };
}
