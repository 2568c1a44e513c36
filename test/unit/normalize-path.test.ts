import { describe, expect, it } from 'vitest';
import { ID_PLACEHOLDER, MAX_ENDPOINT_SEGMENTS, normalizePath } from '../../src/spans/normalize-path.js';

describe('normalizePath', () => {
  it('uses :id as the placeholder', () => {
    expect(ID_PLACEHOLDER).toBe(':id');
  });

  it.each([
    ['a numeric id', '/api/items/42/reviews', '/api/items/:id/reviews'],
    ['a UUID', '/users/3f2b8c1e-9d4a-4e7b-8c21-0a1b2c3d4e5f', '/users/:id'],
    ['an upper-case UUID', '/users/3F2B8C1E-9D4A-4E7B-8C21-0A1B2C3D4E5F/posts', '/users/:id/posts'],
    ['sixteen hex digits', '/blobs/deadbeefdeadbeef', '/blobs/:id'],
    ['a Mongo ObjectId', '/orders/507f1f77bcf86cd799439011', '/orders/:id'],
    ['a ULID', '/events/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/events/:id'],
    ['an opaque token with - and _', '/share/aB3dE5fG7hJ9kL1mN3pQ_5r-', '/share/:id'],
    ['a base64 token of sixteen characters', '/t/aB3dE5fG7hJ9kL1m', '/t/:id'],
    ['base64 with + and a / that splits it', '/t/Zm9vYmFy+YmF6cXV4/c2Vjb25kcGFydA==', '/t/:id/:id'],
    ['short base64 with padding', '/t/aGVsbG8gd29ybGQ=', '/t/:id'],
    ['escaped base64', '/t/ab12cd%2Bef34gh%2Fij56%3D%3D', '/t/:id'],
    ['a pseudonymized user id without a digit', '/users/u_AbCdEfGhIjKlMnOpQrStUv', '/users/:id'],
    ['a segment over 64 characters', `/x/${'a'.repeat(65)}`, '/x/:id'],
    ['several ids', '/a/1/b/2/c/3', '/a/:id/b/:id/c/:id'],
    ['an id as the first segment', '/12345', '/:id'],
  ])('replaces %s with :id', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([
    ['an ISO date', '/reports/2024-05-01', '/reports/:date'],
    ['a compact date', '/reports/20240501/summary', '/reports/:date/summary'],
    ['a month', '/archive/2024-05', '/archive/:date'],
    ['a timestamp', '/at/2024-05-01T10:00:00Z', '/at/:date'],
    ['a timestamp with escaped colons and an offset', '/at/2024-05-01T10%3A00%3A00+02%3A00', '/at/:date'],
  ])('replaces %s with :date', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it('keeps eight digits that are no date an :id', () => {
    expect(normalizePath('/orders/20241399')).toBe('/orders/:id');
  });

  it.each([
    ['an email', '/users/alice@example.com', '/users/:email'],
    ['an escaped email', '/users/bob.smith%40mail.example.org/settings', '/users/:email/settings'],
  ])('replaces %s with :email', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([
    ['a fingerprinted asset', '/assets/app.3f9a1c.js', '/assets/:file'],
    ['a script', '/wp-admin/setup.php', '/wp-admin/:file'],
    ['a dotfile', '/.env', '/:file'],
    ['a dotfolder', '/.git/config', '/:file/config'],
    ['a static page', '/static/index.html', '/static/:file'],
  ])('replaces %s with :file', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([
    [
      'a title slug with a random suffix',
      '/api/articles/how-to-train-your-dragon-x7k2',
      '/api/articles/:slug',
    ],
    ['a slug of four words', '/blog/ten-tips-for-node', '/blog/:slug'],
    ['a product with a number', '/products/iphone-15', '/products/:slug'],
    ['three words with a digit', '/docs/s3-upload-url', '/docs/:slug'],
    ['underscored words with a number', '/photos/img_2024_beach', '/photos/:slug'],
    ['a word and a three-digit number', '/articles/pks-590', '/articles/:slug'],
  ])('replaces %s with :slug', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it('cuts the path after the sixth segment', () => {
    expect(MAX_ENDPOINT_SEGMENTS).toBe(6);
    expect(normalizePath('/a/b/c/d/e/f/g/h/i')).toBe('/a/b/c/d/e/f/*');
    expect(normalizePath('/a/b/c/d/e/f')).toBe('/a/b/c/d/e/f');
  });

  it.each([
    ['a trailing slash', '/api/items/42/', '/api/items/:id'],
    ['double slashes', '//double//slashes//', '/double/slashes'],
    ['the empty path', '', '/'],
  ])('drops empty segments: %s', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([
    '/api/items',
    '/v1/users',
    '/api/v2/search',
    '/v1.2/status',
    '/cafe',
    '/beef/menu',
    '/dead/beef/cafe/babe',
    '/abc123',
    '/internationalization-settings',
    '/oauth2-callback',
    '/en-US/products',
    '/es-419/products',
    '/.well-known/openid-configuration',
    '/socket.io',
    '/users/me',
    '/users/alice',
    '/',
  ])('keeps %j as it is', (path) => {
    expect(normalizePath(path)).toBe(path);
  });

  it('keeps hex shorter than sixteen digits that has no letters-and-digits token shape', () => {
    expect(normalizePath('/colors/ffaa00')).toBe('/colors/ffaa00');
  });

  it('takes linear time on a long hostile path', () => {
    const hostile = `/${'a%40'.repeat(5000)}/${'a.'.repeat(5000)}x/${'1-'.repeat(5000)}`;
    const started = performance.now();
    expect(normalizePath(hostile)).toBe('/:id/:id/:id');
    expect(performance.now() - started).toBeLessThan(50);
  });
});
