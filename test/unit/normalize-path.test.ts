import { describe, expect, it } from 'vitest';
import { ID_PLACEHOLDER, normalizePath } from '../../src/internal/normalize-path.js';

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
    ['several ids', '/a/1/b/2/c/3', '/a/:id/b/:id/c/:id'],
    ['an id as the first segment', '/12345', '/:id'],
    ['an id before a trailing slash', '/api/items/42/', '/api/items/:id/'],
  ])('replaces %s with :id', (_label, path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([
    '/api/items',
    '/v1/users',
    '/api/v2/search',
    '/cafe',
    '/beef/menu',
    '/dead/beef/cafe/babe',
    '/abc123',
    '/internationalization-settings',
    '/static/app.js',
    '/users/me/',
    '/',
    '//double//slashes//',
  ])('keeps %j as it is', (path) => {
    expect(normalizePath(path)).toBe(path);
  });

  it('turns the empty path into /', () => {
    expect(normalizePath('')).toBe('/');
  });

  it('keeps hex shorter than sixteen digits that has no letters-and-digits token shape', () => {
    expect(normalizePath('/colors/ffaa00')).toBe('/colors/ffaa00');
  });
});
