// @ts-check
/**
 * The business logic both example apps share: an in-memory user store with sessions, and the
 * calls they make to (stubbed) external APIs, through `fetch` and through `node:http` the way
 * axios would. The apps differ only in how they route requests.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

/**
 * @typedef {{ id: string, email: string, salt: Buffer, hash: Buffer }} User
 * @typedef {{ ok: true, user: User } | { ok: false, reason: string }} AuthResult
 */

/** @param {{ stubUrl: string, geminiApiKey?: string }} options */
export function createBackend(options) {
  /** @type {Map<string, User>} */
  const usersByEmail = new Map();
  /** @type {Map<string, string>} */
  const sessions = new Map();
  const stubUrl = options.stubUrl.replace(/\/$/, '');
  const geminiKey = options.geminiApiKey ?? 'AIzaStubKeyForTheExampleOnly000000000000';

  /** @param {string} password @param {Buffer} salt */
  const hash = (password, salt) => scryptSync(password, salt, 32);

  return {
    /** @param {unknown} email @param {unknown} password @returns {AuthResult} */
    signup(email, password) {
      if (typeof email !== 'string' || !email.includes('@')) return { ok: false, reason: 'invalid email' };
      if (typeof password !== 'string' || password.length < 8) return { ok: false, reason: 'weak password' };
      if (usersByEmail.has(email)) return { ok: false, reason: 'email already registered' };
      const salt = randomBytes(16);
      const user = { id: `user-${usersByEmail.size + 1}`, email, salt, hash: hash(password, salt) };
      usersByEmail.set(email, user);
      return { ok: true, user };
    },

    /** @param {unknown} email @param {unknown} password @returns {AuthResult} */
    login(email, password) {
      const user = typeof email === 'string' ? usersByEmail.get(email) : undefined;
      if (!user || typeof password !== 'string') return { ok: false, reason: 'invalid credentials' };
      const ok = timingSafeEqual(hash(password, user.salt), user.hash);
      return ok ? { ok: true, user } : { ok: false, reason: 'invalid credentials' };
    },

    /** @param {User} user @returns {string} a session token */
    openSession(user) {
      const token = randomBytes(24).toString('base64url');
      sessions.set(token, user.id);
      return token;
    },

    /** @param {string | undefined} authorization @returns {string | undefined} the user id */
    userFromAuthorization(authorization) {
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
      return token ? sessions.get(token) : undefined;
    },

    /** @param {string | undefined} authorization */
    closeSession(authorization) {
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
      const userId = token ? sessions.get(token) : undefined;
      if (token) sessions.delete(token);
      return userId;
    },

    /** @param {unknown} email */
    knownEmail(email) {
      return typeof email === 'string' && usersByEmail.has(email);
    },

    /** Gemini-style call through fetch; the key travels as `?key=`, as Google's REST API takes it. */
    async summarize(/** @type {string} */ text) {
      const url = `${stubUrl}/v1beta/models/gemini-2.5-flash:generateContent?key=${encodeURIComponent(geminiKey)}`;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text }] }] }),
      });
      const data = /** @type {any} */ (await response.json());
      if (!response.ok) throw new Error(`Gemini answered ${response.status}`);
      return String(data.candidates?.[0]?.content?.parts?.[0]?.text ?? '');
    },

    /** OpenAI-style chat completion through fetch. */
    async chat(/** @type {string} */ message) {
      const response = await fetch(`${stubUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-stub-example-key-000000000000',
        },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: message }] }),
      });
      const data = /** @type {any} */ (await response.json());
      return String(data.choices?.[0]?.message?.content ?? '');
    },

    /** Anthropic-style message through `node:http`, as SDKs on other HTTP clients call it. */
    claude(/** @type {string} */ message) {
      const payload = JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 256,
        messages: [{ role: 'user', content: message }],
      });
      return new Promise((resolve, reject) => {
        const request = http.request(
          `${stubUrl}/v1/messages`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
              'x-api-key': 'sk-ant-stub-example-key-000000000000',
              'anthropic-version': '2023-06-01',
            },
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk) => (body += chunk));
            response.on('end', () => resolve(String(JSON.parse(body).content?.[0]?.text ?? '')));
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(payload);
      });
    },

    /** BrightData Web Unlocker-style scrape through fetch. */
    async scrape(/** @type {string} */ target) {
      const response = await fetch(`${stubUrl}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer brd-stub-token' },
        body: JSON.stringify({ zone: 'web_unlocker1', url: target, format: 'raw' }),
      });
      const html = await response.text();
      return { status: response.status, bytes: Buffer.byteLength(html) };
    },

    /** A Supabase-style REST read through `node:http`, the way axios and friends call out. */
    profile(/** @type {string} */ userId) {
      return new Promise((resolve, reject) => {
        const request = http.request(
          `${stubUrl}/rest/v1/profiles?id=eq.${encodeURIComponent(userId)}&apikey=stub-anon-key`,
          { method: 'GET', headers: { accept: 'application/json' } },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk) => (body += chunk));
            response.on('end', () => resolve(JSON.parse(body)));
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end();
      });
    },
  };
}
