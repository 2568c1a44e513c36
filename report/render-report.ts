import { escapeHtml } from './escape-html.js';
import type { ReportBucket, ReportData, ReportSample, ReportTable } from './report-data.js';
import { CHART_COLORS, formatNumber, renderChart, type ChartSeries } from './svg-chart.js';

/**
 * The report as one self-contained HTML page: inline CSS, charts as inline SVG, no scripts and
 * no external resources, so it can be mailed, archived or opened offline. Pure: text from the
 * database (user ids, paths, errors) is escaped.
 */
export function renderReport(data: ReportData): string {
  const bucketMillis = data.bucketSeconds * 1000;
  const { api, auth, external } = data;
  const apiTimes = bucketTimes(data, bucketMillis);
  const requests = valuesAt(api.series, apiTimes, 'requests', 0);
  const errors = valuesAt(api.series, apiTimes, 'errors', 0);
  const p95 = valuesAt(api.series, apiTimes, 'p95', null);
  const perSecond = (v: number | null) => (v === null ? null : v / data.bucketSeconds);

  const costServices = [...new Set(external.costByDay.flatMap((b) => Object.keys(b.values)))].sort();
  const dayMillis = 86_400_000;
  const days = external.costByDay.map((b) => b.time);

  const sections = [
    section(
      'API requests',
      'Counts weighted by sample_weight; errors are 5xx or requests that failed without a status.' +
        sampleNote(
          api.sample,
          'Percentiles, users (at least), the slowest endpoints, status codes and top users',
          'requests',
        ),
      [
        cards([
          ['requests', formatNumber(api.totals.requests)],
          ['server errors', percent(api.totals.errorRate)],
          ['p50', ms(api.totals.p50)],
          ['p95', ms(api.totals.p95)],
          ['users', `${api.sample ? '≥ ' : ''}${formatNumber(api.totals.users)}`],
        ]),
        grid(
          renderChart({
            title: `Requests per second (${bucketLabel(data.bucketSeconds)} buckets)`,
            times: apiTimes,
            series: [
              { name: 'requests/s', color: CHART_COLORS[0]!, values: requests.map(perSecond) },
              { name: '5xx/s', color: CHART_COLORS[1]!, values: errors.map(perSecond) },
            ],
            bucketMillis,
          }),
          renderChart({
            // Past the sample budget the line comes from the rollups' histograms (read-api-section.ts).
            title: api.sample ? 'p95 latency (ms, from the hourly latency histograms)' : 'p95 latency (ms)',
            times: apiTimes,
            series: [{ name: 'p95 ms', color: CHART_COLORS[2]!, values: p95 }],
            bucketMillis,
          }),
          table('Busiest endpoints', api.endpoints),
          table('Slowest endpoints (p95, at least 5 requests)', api.slowest),
          table('Status codes', api.statuses),
          table('Top users', api.users),
        ),
      ],
    ),
    section(
      'Authentication and security',
      'Failed events are login_failed, or any event recorded as unsuccessful.',
      [
        cards([
          ['logins', formatNumber(auth.totals.logins)],
          ['failed', formatNumber(auth.totals.failed)],
          ['sign-ups', formatNumber(auth.totals.signups)],
          ['password resets', formatNumber(auth.totals.passwordResets)],
        ]),
        grid(
          renderChart({
            title: `Events per ${bucketLabel(data.bucketSeconds)}`,
            times: apiTimes,
            stacked: true,
            series: [
              {
                name: 'succeeded',
                color: CHART_COLORS[3]!,
                values: valuesAt(auth.series, apiTimes, 'succeeded', 0),
              },
              {
                name: 'failed',
                color: CHART_COLORS[1]!,
                values: valuesAt(auth.series, apiTimes, 'failed', 0),
              },
            ],
            bucketMillis,
          }),
          table(
            'Bursts of failures from one address (at least 5 in 5 minutes): possible brute force',
            auth.bursts,
          ),
          table('Failed logins by IP', auth.failedByIp),
          table('Failed logins by user', auth.failedByUser),
        ),
      ],
    ),
    section(
      'External APIs and cost',
      'Estimated cost in USD, from token usage and the price table; calls without a price are counted apart.' +
        sampleNote(external.sample, 'The p95, unpriced calls and cost by user', 'calls'),
      [
        cards([
          ['calls', formatNumber(external.totals.calls)],
          ['cost', usd(external.totals.cost)],
          ['errors', percent(external.totals.errorRate)],
          ['tokens', formatNumber(external.totals.tokens)],
        ]),
        grid(
          renderChart({
            title: 'Cost per day by service (USD, UTC days)',
            times: days,
            stacked: true,
            formatValue: usd,
            series: costServices.map((service, i): ChartSeries => ({
              name: service,
              color: CHART_COLORS[i % CHART_COLORS.length]!,
              values: external.costByDay.map((b) => b.values[service] ?? 0),
            })),
            bucketMillis: dayMillis,
          }),
          renderChart({
            title: 'Tokens',
            times: apiTimes,
            series: [
              {
                name: 'input',
                color: CHART_COLORS[0]!,
                values: valuesAt(external.tokens, apiTimes, 'input', 0),
              },
              {
                name: 'output',
                color: CHART_COLORS[4]!,
                values: valuesAt(external.tokens, apiTimes, 'output', 0),
              },
            ],
            bucketMillis,
          }),
          table('Services', external.services),
          table('Cost by model', external.models),
          table('Cost by user', external.users),
        ),
      ],
    ),
  ];

  const title = `otel-pg-analytics report, ${isoMinute(data.range.since)} to ${isoMinute(data.range.until)} UTC`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><p>Generated ${escapeHtml(isoMinute(data.generatedAt))} UTC from the dashboard views of the analytics database. The same questions as the Grafana dashboards in grafana/.</p></header>
${sections.join('\n')}
</body>
</html>
`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 0 24px 40px; background: #fff; }
header { border-bottom: 1px solid #dde1e8; margin-bottom: 8px; }
h1 { font-size: 20px; margin: 18px 0 4px; }
h2 { font-size: 17px; margin: 24px 0 2px; }
h3 { font-size: 13px; margin: 10px 0 4px; color: #4a5468; }
p.note, header p { color: #5d6778; margin: 2px 0 10px; font-size: 12px; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; margin: 8px 0; }
.card { border: 1px solid #dde1e8; border-radius: 6px; padding: 6px 14px; min-width: 110px; }
.card b { display: block; font-size: 20px; }
.card span { color: #5d6778; font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 10px 16px; align-items: start; }
.grid > div { overflow-x: auto; }
.grid svg { border: 1px solid #dde1e8; border-radius: 6px; background: #fff; max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { border-bottom: 1px solid #eceef2; padding: 3px 8px; text-align: left; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f5f6f8; font-weight: 600; }
.empty { color: #8a93a3; font-style: italic; }
.chart-title { font-size: 13px; font-weight: 600; fill: #1d2330; }
.tick, .legend { font-size: 11px; fill: #5d6778; }
.chart-empty { font-size: 13px; fill: #8a93a3; }
.gridline { stroke: #eceef2; }
.axis { stroke: #9aa3b2; }
`;

/** What a sample stands behind, when a section's raw-row parts were read from one. */
function sampleNote(sample: ReportSample | undefined, parts: string, unit: string): string {
  if (!sample) return '';
  const share = sample.percent < 1 ? sample.percent.toPrecision(2) : sample.percent.toFixed(1);
  return ` ${parts} are estimated from a sample of ${formatNumber(sample.rows)} ${unit} (${share}% of the table's pages); the rest is exact.`;
}

function section(title: string, note: string, body: string[]): string {
  return `<section><h2>${escapeHtml(title)}</h2><p class="note">${escapeHtml(note)}</p>${body.join('\n')}</section>`;
}

function cards(items: [string, string][]): string {
  return `<div class="cards">${items
    .map(
      ([label, value]) =>
        `<div class="card"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`,
    )
    .join('')}</div>`;
}

/** Charts and tables, two to a row on a wide page. */
function grid(...parts: string[]): string {
  return `<div class="grid">${parts.map((p) => `<div>${p}</div>`).join('')}</div>`;
}

function table(title: string, data: ReportTable): string {
  if (data.rows.length === 0) return `<h3>${escapeHtml(title)}</h3><p class="empty">none in this range</p>`;
  const head = data.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = data.rows
    .map(
      (row) =>
        `<tr>${row
          .map((cell) =>
            typeof cell === 'number'
              ? `<td class="n">${escapeHtml(cell.toLocaleString('en-US', { maximumFractionDigits: 4 }))}</td>`
              : `<td>${escapeHtml(cell ?? '')}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  return `<h3>${escapeHtml(title)}</h3><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Every bucket start of the range, so a quiet bucket shows as 0 rather than being skipped. */
function bucketTimes(data: ReportData, bucketMillis: number): Date[] {
  const start = Math.floor(data.range.since.getTime() / bucketMillis) * bucketMillis;
  const times: Date[] = [];
  for (let t = start; t < data.range.until.getTime(); t += bucketMillis) times.push(new Date(t));
  return times;
}

function valuesAt(
  buckets: readonly ReportBucket[],
  times: readonly Date[],
  key: string,
  missing: number | null,
): (number | null)[] {
  const byTime = new Map(buckets.map((b) => [b.time.getTime(), b.values[key]]));
  return times.map((t) => byTime.get(t.getTime()) ?? missing);
}

function bucketLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? 'day' : `${seconds / 86_400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  return `${seconds / 60} min`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 2 : 1)}%`;
}

function ms(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(value < 100 ? 1 : 0)} ms`;
}

function usd(value: number): string {
  return `$${value < 10 ? value.toFixed(value < 1 ? 4 : 2) : formatNumber(value)}`;
}

function isoMinute(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}
