import { describe, expect, it } from 'vitest';
import { InFlightBudget } from '../../ingest/in-flight-budget.js';

const KiB = 1024;

describe('InFlightBudget', () => {
  it('lets large bodies fill three quarters of the budget, and refuses past it with nothing taken', () => {
    const budget = new InFlightBudget(1024 * KiB);
    expect(budget.largestBodyBytes).toBe(768 * KiB);
    const a = budget.open();
    const b = budget.open();
    expect(a.growTo(500 * KiB)).toBe(true);
    expect(b.growTo(268 * KiB)).toBe(true);
    expect(budget.inFlightBytes).toBe(768 * KiB);
    const c = budget.open();
    expect(c.growTo(100 * KiB)).toBe(false);
    expect(c.bytes).toBe(0);
    expect(budget.inFlightBytes).toBe(768 * KiB);
  });

  it('keeps the last quarter for small bodies (at most 1/32 of the budget each)', () => {
    const budget = new InFlightBudget(1024 * KiB);
    expect(budget.open().growTo(768 * KiB)).toBe(true);
    const small = budget.open();
    expect(small.growTo(32 * KiB)).toBe(true);
    // Growing past the small size makes it a large body, and large ones have no room left.
    expect(small.growTo(33 * KiB)).toBe(false);
    expect(small.bytes).toBe(32 * KiB);
    const smalls = Array.from({ length: 7 }, () => budget.open());
    expect(smalls.every((r) => r.growTo(32 * KiB))).toBe(true);
    expect(budget.inFlightBytes).toBe(1024 * KiB);
    expect(budget.open().growTo(1)).toBe(false);
  });

  it('checks a declared length against the room left, reserving nothing', () => {
    const budget = new InFlightBudget(1024 * KiB);
    const declared = budget.open();
    expect(declared.admit(768 * KiB)).toBe(true);
    expect(declared.bytes).toBe(0);
    expect(budget.inFlightBytes).toBe(0);
    // Declaring the whole share keeps no one out; bytes that arrive do.
    const other = budget.open();
    expect(other.admit(700 * KiB)).toBe(true);
    expect(other.growTo(700 * KiB)).toBe(true);
    expect(budget.open().admit(100 * KiB)).toBe(false);
    expect(budget.open().admit(68 * KiB)).toBe(true);
    expect(declared.growTo(69 * KiB)).toBe(false);
  });

  it('counts a body declared large against the large share from its first byte', () => {
    const budget = new InFlightBudget(1024 * KiB);
    expect(budget.open().growTo(768 * KiB)).toBe(true);
    const large = budget.open();
    expect(large.admit(100 * KiB)).toBe(false);
    expect(large.growTo(1 * KiB)).toBe(false);
    // Undeclared, the same first bytes are a small body's.
    expect(budget.open().growTo(1 * KiB)).toBe(true);
  });

  it('counts a reservation by its total, so growing to a smaller total takes nothing', () => {
    const budget = new InFlightBudget(1024 * KiB);
    const r = budget.open();
    expect(r.growTo(10 * KiB)).toBe(true);
    expect(r.growTo(20 * KiB)).toBe(true);
    expect(r.growTo(15 * KiB)).toBe(true);
    expect(budget.inFlightBytes).toBe(20 * KiB);
  });

  it('gives the bytes back once on release, and a released reservation takes no more', () => {
    const budget = new InFlightBudget(1024 * KiB);
    const r = budget.open();
    expect(r.growTo(700 * KiB)).toBe(true);
    r.release();
    r.release();
    expect(budget.inFlightBytes).toBe(0);
    expect(r.growTo(1)).toBe(false);
    expect(budget.open().growTo(768 * KiB)).toBe(true);
  });
});
