import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRowsSql } from '../../bench/synthetic-rows.mjs';
import { packageRoot } from '../../admin/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');
const CHROMIUM = '/usr/bin/chromium';
const HOUR = 3_600_000;

describe('otel-pg-analytics report', () => {
  let db: TestDatabase;
  let dir: string;
  const now = new Date();

  beforeAll(async () => {
    db = await createTestDatabase('report');
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-report-test-'));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (const statement of syntheticRowsSql({
        from: new Date(now.getTime() - 48 * HOUR),
        to: now,
        apiRows: 8000,
        authRows: 1500,
        callRows: 1500,
      })) {
        await client.query(statement);
      }
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('writes the HTML report of the last 24 hours, reading the URL from the environment', async () => {
    const out = path.join(dir, 'last.html');
    const { stdout } = await run(process.execPath, [cli, 'report', '--last', '24h', '--out', out], {
      env: { ...process.env, OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    expect(stdout).toContain(`${out}: report of `);
    const html = readFileSync(out, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(5);
    for (const text of ['GET /api/items/:id', '203.0.113.7', 'claude-sonnet-4-5', 'brightdata', 'Top users'])
      expect(html).toContain(text);
    expect(html).not.toMatch(/<script|src=/);
    // Counts match the database: the requests card is the weighted sum over the window.
    const [row] = await db.query<{ requests: number }>(
      `select sum(sample_weight)::float8 as requests from api_access_log
       where time >= $1 and time < $2`,
      [
        new Date(Date.parse(/report of (\S+) to/.exec(stdout)![1]!)),
        new Date(Date.parse(/ to (\S+) from/.exec(stdout)![1]!)),
      ],
    );
    expect(row!.requests).toBeGreaterThan(1000);
    const shown = /<b>([\d.]+)k<\/b><span>requests<\/span>/.exec(html)![1]!;
    expect(Number(shown)).toBeCloseTo(row!.requests / 1000, 0);
  });

  it('takes --since and --until, and a window with no rows gives a report that says so', async () => {
    const out = path.join(dir, 'empty.html');
    await run(process.execPath, [
      cli,
      'report',
      '--database-url',
      db.url,
      '--since',
      '2020-01-01',
      '--until',
      '2020-01-02',
      '--out',
      out,
    ]);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('2020-01-01 00:00 to 2020-01-02 00:00 UTC');
    expect(html).toContain('no data in this range');
    expect(html).toContain('<b>0</b><span>requests</span>');
  });

  it('exits 2 with the reason for a bad window or no database', async () => {
    const bad = await run(process.execPath, [
      cli,
      'report',
      '--database-url',
      db.url,
      '--last',
      'a while',
    ]).catch((error: unknown) => error);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/--last "a while" is not a duration/);
    const env = { ...process.env };
    delete env.OTEL_ANALYTICS_DATABASE_URL;
    delete env.DATABASE_URL;
    const none = await run(process.execPath, [cli, 'report'], { env }).catch((error: unknown) => error);
    expect((none as { code: number }).code).toBe(2);
    expect((none as { stderr: string }).stderr).toMatch(/OTEL_ANALYTICS_DATABASE_URL/);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'renders in headless Chromium with its charts (skipped without /usr/bin/chromium: apt-get install -y chromium)',
    async () => {
      const html = path.join(dir, 'shot.html');
      const png = path.join(dir, 'shot.png');
      await run(process.execPath, [cli, 'report', '--database-url', db.url, '--last', '48h', '--out', html]);
      await run(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--hide-scrollbars',
          `--screenshot=${png}`,
          '--window-size=1280,2400',
          pathToFileURL(html).href,
        ],
        { timeout: 60_000 },
      );
      const image = readFileSync(png);
      expect(image.subarray(1, 4).toString()).toBe('PNG');
      expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1280, 2400]);
      // A page with only a heading comes out at about 15 KB at this size; charts and tables do not.
      expect(statSync(png).size).toBeGreaterThan(100_000);
    },
    90_000,
  );
});
