import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/env.js';

describe('readEnv', () => {
  it('keeps every variable an option reads, and of the rest only the OTEL_ and ANALYTICS_ ones', () => {
    const snapshot = readEnv({
      DATABASE_URL: 'postgres://u@h/app',
      HOME: '/home/app',
      XDG_STATE_HOME: '/srv/state',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
      ANALYTICS_SAMPLING_RATE: '0.5',
      OTEL_ANALYTICS_CONFIG: './analytics.json',
      PATH: '/usr/bin',
      SECRET_TOKEN: 'x',
    });
    expect(Object.keys(snapshot).sort()).toEqual([
      'ANALYTICS_SAMPLING_RATE',
      'DATABASE_URL',
      'HOME',
      'OTEL_ANALYTICS_CONFIG',
      'OTEL_TRACES_SAMPLER_ARG',
      'XDG_STATE_HOME',
    ]);
    expect(Object.isFrozen(snapshot)).toBe(true);
  });
});
