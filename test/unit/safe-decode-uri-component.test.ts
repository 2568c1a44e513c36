import { describe, expect, it } from 'vitest';
import { safeDecodeURIComponent } from '../../src/privacy/safe-decode-uri-component.js';

describe('safeDecodeURIComponent', () => {
  it('decodes percent-encoding', () => {
    expect(safeDecodeURIComponent('a%2Fb%40c')).toBe('a/b@c');
  });

  it('takes malformed percent-encoding literally instead of throwing', () => {
    expect(safeDecodeURIComponent('%E0%A4%A')).toBe('%E0%A4%A');
    expect(safeDecodeURIComponent('100%')).toBe('100%');
  });

  it("keeps '+' as it is, unless asked to read it as a space (query strings, forms)", () => {
    expect(safeDecodeURIComponent('a+b%20c')).toBe('a+b c');
    expect(safeDecodeURIComponent('a+b%20c', { plusIsSpace: true })).toBe('a b c');
    expect(safeDecodeURIComponent('a+b%', { plusIsSpace: true })).toBe('a b%');
  });
});
