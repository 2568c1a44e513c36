import { afterEach, describe, expect, it } from 'vitest';
import { raceTimeout } from '../../src/support/race-timeout.js';

describe('raceTimeout', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('resolves false when the promise settles first, even by rejecting', async () => {
    expect(await raceTimeout(Promise.resolve(1), 1000)).toBe(false);
    expect(await raceTimeout(Promise.reject(new Error('x')), 1000)).toBe(false);
  });

  it('resolves true when the time runs out first', async () => {
    expect(await raceTimeout(new Promise(() => {}), 5)).toBe(true);
  });

  it('takes a deadline already past as no time left, without a warning on stderr', async () => {
    process.on('warning', onWarning);
    expect(await raceTimeout(new Promise(() => {}), -250, { keepAlive: true })).toBe(true);
    expect(await raceTimeout(new Promise(() => {}), Number.NaN)).toBe(true);
    // Node emits the warning on the next tick after setTimeout; a flush of the queue lets it arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => w.name)).toEqual([]);
  });
});
