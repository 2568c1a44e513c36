import { describe, expect, it } from 'vitest';
import type { ReportData } from '../../report/report-data.js';
import { chooseBucketSeconds } from '../../report/report-data.js';
import { renderReport } from '../../report/render-report.js';
import { resolveReportRange } from '../../report/resolve-report-range.js';
import { niceCeiling, renderChart } from '../../report/svg-chart.js';

const since = new Date('2026-11-25T00:00:00Z');
const until = new Date('2026-11-26T00:00:00Z');
const hour = (h: number) => new Date(since.getTime() + h * 3_600_000);

function data(overrides: Partial<ReportData['api']> = {}): ReportData {
  const empty = { columns: ['a'], rows: [] };
  return {
    range: { since, until },
    bucketSeconds: 3600,
    generatedAt: until,
    api: {
      totals: { requests: 1200, errorRate: 0.0125, p50: 42, p95: 900, users: 7 },
      series: [
        { time: hour(1), values: { requests: 3600, errors: 36, p95: 800 } },
        { time: hour(3), values: { requests: 7200, errors: 0, p95: 950 } },
      ],
      endpoints: { columns: ['endpoint', 'requests'], rows: [['GET /api/items/:id', 1200]] },
      slowest: empty,
      statuses: empty,
      users: { columns: ['user', 'requests'], rows: [['<script>alert(1)</script>', 3]] },
      ...overrides,
    },
    auth: {
      totals: { logins: 5, failed: 2, signups: 1, passwordResets: 0 },
      series: [{ time: hour(2), values: { succeeded: 5, failed: 2 } }],
      bursts: { columns: ['ip', 'failures'], rows: [['203.0.113.7', 40]] },
      failedByIp: empty,
      failedByUser: empty,
    },
    external: {
      totals: { calls: 10, cost: 0.125, errorRate: 0.1, tokens: 5000 },
      costByDay: [{ time: since, values: { gemini: 0.1, openai: 0.025 } }],
      tokens: [],
      services: empty,
      models: empty,
      users: empty,
    },
  };
}

describe('renderReport', () => {
  const html = renderReport(data());

  it('is one self-contained page: inline SVG charts, no script, no external resource', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
    // The only URL is the SVG namespace, an identifier never fetched.
    expect(html.match(/https?:\/\/[^"]+/g)).toEqual(Array(5).fill('http://www.w3.org/2000/svg'));
  });

  it('escapes text from the database', () => {
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).not.toContain('<script>alert');
  });

  it('shows the totals, tables and an empty table as such', () => {
    expect(html).toContain('<b>1.2k</b><span>requests</span>');
    expect(html).toContain('<b>1.25%</b><span>server errors</span>');
    expect(html).toContain('<b>$0.1250</b><span>cost</span>');
    expect(html).toContain('<td>203.0.113.7</td><td class="n">40</td>');
    expect(html).toContain(
      '<h3>Slowest endpoints (p95, at least 5 requests)</h3><p class="empty">none in this range</p>',
    );
  });

  it('draws every bucket of the range, a quiet one as zero requests and a gap in latency', () => {
    const requestsChart = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    // 24 hourly buckets; the two with rows are 1 and 2 requests/s, the rest 0.
    const requestsPath = /<path d="([^"]+)" fill="none" stroke="#3366cc"/.exec(requestsChart)![1]!;
    expect(requestsPath.split(/[ML]/).filter(Boolean)).toHaveLength(24);
    const latencyChart = html.slice(html.indexOf('<svg', html.indexOf('</svg>')));
    const latencyPath = /<path d="([^"]+)"/.exec(latencyChart)![1]!;
    expect(latencyPath.match(/M/g)).toHaveLength(2); // two separate points, no line across empty hours
  });

  it('says which parts a sample stands behind, with users as a lower bound', () => {
    expect(html).not.toContain('estimated from a sample');
    const sampled = data({ sample: { percent: 0.8775, rows: 20_179 } });
    sampled.external.sample = { percent: 10.007, rows: 50_393 };
    const page = renderReport(sampled);
    expect(page).toContain('<b>≥ 7</b><span>users</span>');
    expect(page).toContain(
      'Percentiles, users (at least), the slowest endpoints, status codes and top users are estimated from a sample of 20.2k requests (0.88% of the table&#39;s pages); the rest is exact.',
    );
    expect(page).toContain('from a sample of 50.4k calls (10.0% of the table&#39;s pages)');
    expect(page).toContain('p95 latency (ms, from the hourly latency histograms)');
  });
});

describe('renderChart', () => {
  it('says when there is no data instead of drawing axes', () => {
    const svg = renderChart({ title: 'Tokens', times: [], series: [], bucketMillis: 60_000 });
    expect(svg).toContain('no data in this range');
    expect(svg).not.toContain('<path');
  });

  it('stacks bars per bucket, one rect per positive value, with a legend entry per series', () => {
    const svg = renderChart({
      title: 'Cost',
      times: [since, until],
      stacked: true,
      series: [
        { name: 'a', color: '#111111', values: [1, 0] },
        { name: 'b', color: '#222222', values: [2, 3] },
      ],
      bucketMillis: 86_400_000,
    });
    expect(svg.match(/<rect [^>]*fill="#111111"><title>/g)).toHaveLength(1);
    expect(svg.match(/<rect [^>]*fill="#222222"><title>/g)).toHaveLength(2);
    expect(svg).toContain('>a</text>');
  });

  it('puts the axis top on a round number', () => {
    expect([0, 0.3, 7, 12, 180, 2600].map(niceCeiling)).toEqual([1, 0.5, 10, 20, 200, 5000]);
  });
});

describe('report window', () => {
  const now = new Date('2026-11-26T12:00:00Z');

  it('is the last 24 hours by default, or --last back from --until', () => {
    expect(resolveReportRange({}, now)).toEqual({ since: new Date('2026-11-25T12:00:00Z'), until: now });
    expect(resolveReportRange({ last: '90m', until: '2026-11-26T10:00:00Z' }, now)).toEqual({
      since: new Date('2026-11-26T08:30:00Z'),
      until: new Date('2026-11-26T10:00:00Z'),
    });
    expect(resolveReportRange({ since: '2026-11-01', until: '2026-11-08' }, now)).toEqual({
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date('2026-11-08T00:00:00Z'),
    });
  });

  it('says what is wrong with a window that is not one', () => {
    expect(resolveReportRange({ last: '24 hours' }, now)).toMatch(/not a duration/);
    expect(resolveReportRange({ last: '0h' }, now)).toMatch(/not a duration/);
    expect(resolveReportRange({ since: 'yesterday' }, now)).toMatch(/--since "yesterday" is not a date/);
    expect(resolveReportRange({ since: '2026-11-27' }, now)).toMatch(/empty/);
    expect(resolveReportRange({ since: '2026-11-20', last: '1d' }, now)).toMatch(/not both/);
  });

  it('picks buckets that keep a chart under 100 points', () => {
    expect(chooseBucketSeconds({ since: new Date(0), until: new Date(3_600_000) })).toBe(60);
    expect(chooseBucketSeconds({ since, until })).toBe(900);
    expect(chooseBucketSeconds({ since: new Date(0), until: new Date(30 * 86_400_000) })).toBe(12 * 3600);
  });
});
