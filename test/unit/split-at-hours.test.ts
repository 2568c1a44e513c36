import { describe, expect, it } from 'vitest';
import { rawOnly, splitAtHours } from '../../report/split-at-hours.js';

const at = (iso: string) => new Date(iso);

describe('splitAtHours', () => {
  it('gives the whole UTC hours inside the range and the partial hours at its ends', () => {
    expect(splitAtHours({ since: at('2026-11-01T10:20:00Z'), until: at('2026-11-02T08:05:00Z') })).toEqual({
      wholeHours: { since: at('2026-11-01T11:00:00Z'), until: at('2026-11-02T08:00:00Z') },
      partial: [
        { since: at('2026-11-01T10:20:00Z'), until: at('2026-11-01T11:00:00Z') },
        { since: at('2026-11-02T08:00:00Z'), until: at('2026-11-02T08:05:00Z') },
      ],
    });
  });

  it('leaves no partial piece for an end on an hour start', () => {
    expect(splitAtHours({ since: at('2026-11-01T10:00:00Z'), until: at('2026-11-01T12:00:00Z') })).toEqual({
      wholeHours: { since: at('2026-11-01T10:00:00Z'), until: at('2026-11-01T12:00:00Z') },
      partial: [],
    });
    // A millisecond past the hour start is a partial hour.
    expect(
      splitAtHours({ since: at('2026-11-01T09:59:59.999Z'), until: at('2026-11-01T12:00:00.001Z') }),
    ).toEqual({
      wholeHours: { since: at('2026-11-01T10:00:00Z'), until: at('2026-11-01T12:00:00Z') },
      partial: [
        { since: at('2026-11-01T09:59:59.999Z'), until: at('2026-11-01T10:00:00Z') },
        { since: at('2026-11-01T12:00:00Z'), until: at('2026-11-01T12:00:00.001Z') },
      ],
    });
  });

  it('reads a range without a whole hour raw, also one that crosses an hour start', () => {
    for (const range of [
      { since: at('2026-11-01T10:05:00Z'), until: at('2026-11-01T10:55:00Z') },
      { since: at('2026-11-01T10:40:00Z'), until: at('2026-11-01T11:20:00Z') },
    ])
      expect(splitAtHours(range)).toEqual({ wholeHours: null, partial: [range] });
  });

  it('cuts hours in UTC, whatever the offset the dates were written with', () => {
    expect(
      splitAtHours({ since: at('2026-11-01T10:20:00+05:30'), until: at('2026-11-01T13:00:00+05:30') }),
    ).toEqual({
      wholeHours: { since: at('2026-11-01T05:00:00Z'), until: at('2026-11-01T07:00:00Z') },
      partial: [
        { since: at('2026-11-01T04:50:00Z'), until: at('2026-11-01T05:00:00Z') },
        { since: at('2026-11-01T07:00:00Z'), until: at('2026-11-01T07:30:00Z') },
      ],
    });
  });

  it('rawOnly reads the whole range raw', () => {
    const range = { since: at('2026-11-01T00:00:00Z'), until: at('2026-12-01T00:00:00Z') };
    expect(rawOnly(range)).toEqual({ wholeHours: null, partial: [range] });
  });
});
