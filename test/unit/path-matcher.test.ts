import { describe, expect, it } from 'vitest';
import { createPathMatcher } from '../../src/spans/path-matcher.js';

describe('createPathMatcher', () => {
  const matches = createPathMatcher(['/health', '/static/*', '/metrics']);

  it.each(['/health', '/metrics', '/static/app.js', '/static/', '/static/css/site.css'])(
    'matches %j',
    (path) => {
      expect(matches(path)).toBe(true);
    },
  );

  it.each(['/healthz', '/health/', '/health/live', '/Health', '/static', '/api/static/x', '/', ''])(
    'does not match %j',
    (path) => {
      expect(matches(path)).toBe(false);
    },
  );

  it('matches nothing when there are no patterns', () => {
    const none = createPathMatcher([]);
    expect(none('/')).toBe(false);
    expect(none('/health')).toBe(false);
  });

  it('treats a prefix without a slash before * as a plain string prefix', () => {
    const m = createPathMatcher(['/api*']);
    expect(m('/api')).toBe(true);
    expect(m('/api/v1')).toBe(true);
    expect(m('/apiary')).toBe(true);
    expect(m('/ap')).toBe(false);
  });

  it('matches every path with a lone *', () => {
    const all = createPathMatcher(['*']);
    expect(all('/anything')).toBe(true);
    expect(all('')).toBe(true);
  });

  it('treats a * that is not at the end literally', () => {
    const m = createPathMatcher(['/a/*/b']);
    expect(m('/a/*/b')).toBe(true);
    expect(m('/a/x/b')).toBe(false);
  });
});
