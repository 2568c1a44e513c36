import { escapeHtml } from './escape-html.js';

/** One line or bar series of a chart. */
export interface ChartSeries {
  name: string;
  color: string;
  /** Values in the order of the chart's times; null where there is no value. */
  values: readonly (number | null)[];
}

/** A time-series chart: times on x, one or more series on y. */
export interface ChartSpec {
  title: string;
  times: readonly Date[];
  series: readonly ChartSeries[];
  /** Bars stacked per time instead of lines. */
  stacked?: boolean;
  /** How a y value is written on the axis. */
  formatValue?: (value: number) => string;
  /** Width of one bucket, ms: bars are as wide as their bucket. */
  bucketMillis: number;
}

/** Default chart size, px; the report's layout fits two per row on a 1280 px page. */
export const DEFAULT_CHART_WIDTH = 600;
export const DEFAULT_CHART_HEIGHT = 240;

/** Colors of successive series, readable on white and by most color-blind readers. */
export const CHART_COLORS: readonly string[] = Object.freeze([
  '#3366cc',
  '#dc3912',
  '#ff9900',
  '#109618',
  '#990099',
  '#0099c6',
  '#dd4477',
  '#66aa00',
]);

const MARGIN = { top: 30, right: 12, bottom: 42, left: 58 };

/**
 * A self-contained SVG chart (no scripts, no external references): axes with rounded ticks,
 * UTC time labels, lines or stacked bars, a legend. Pure: the same spec gives the same SVG.
 */
export function renderChart(
  spec: ChartSpec,
  width = DEFAULT_CHART_WIDTH,
  height = DEFAULT_CHART_HEIGHT,
): string {
  const format = spec.formatValue ?? formatNumber;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(spec.title)}">`,
    `<text x="${MARGIN.left}" y="18" class="chart-title">${escapeHtml(spec.title)}</text>`,
  );
  const times = spec.times.map((t) => t.getTime());
  if (times.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="chart-empty">no data in this range</text></svg>`,
    );
    return parts.join('');
  }
  const xMin = Math.min(...times);
  const xMax = Math.max(...times) + (spec.stacked ? spec.bucketMillis : 0);
  const x = (t: number) =>
    MARGIN.left + (xMax === xMin ? plotWidth / 2 : ((t - xMin) / (xMax - xMin)) * plotWidth);
  const tops = spec.stacked
    ? times.map((_, i) => spec.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0))
    : spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const yMax = niceCeiling(Math.max(0, ...tops));
  const y = (v: number) => MARGIN.top + plotHeight - (yMax === 0 ? 0 : (v / yMax) * plotHeight);

  // Grid and y ticks.
  for (let i = 0; i <= 4; i++) {
    const value = (yMax / 4) * i;
    const py = y(value).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${py}" y2="${py}" class="gridline"/>`,
      `<text x="${MARGIN.left - 6}" y="${py}" dy="4" text-anchor="end" class="tick">${escapeHtml(format(value))}</text>`,
    );
  }
  // X ticks: up to 6 labels, UTC.
  const spanDays = (xMax - xMin) / 86_400_000;
  const step = Math.max(1, Math.ceil(times.length / 6));
  for (let i = 0; i < times.length; i += step) {
    const t = times[i]!;
    const iso = new Date(t).toISOString();
    const label =
      spanDays > 7
        ? iso.slice(5, 10)
        : spanDays > 1
          ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`
          : iso.slice(11, 16);
    parts.push(
      `<text x="${(x(t) + (spec.stacked ? (x(t + spec.bucketMillis) - x(t)) / 2 : 0)).toFixed(1)}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" class="tick">${label}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(0)}" y2="${y(0)}" class="axis"/>`,
  );

  if (spec.stacked) {
    const barWidth = Math.max(1, x(xMin + spec.bucketMillis) - x(xMin) - 2);
    times.forEach((t, i) => {
      let base = 0;
      for (const s of spec.series) {
        const v = s.values[i] ?? 0;
        if (v <= 0) continue;
        const top = y(base + v);
        parts.push(
          `<rect x="${(x(t) + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(base) - top).toFixed(1)}" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${format(v)}`)}</title></rect>`,
        );
        base += v;
      }
    });
  } else {
    for (const s of spec.series) {
      // A gap where a value is missing, so an empty bucket is not drawn as a slope.
      let path = '';
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null) {
          pen = false;
          return;
        }
        path += `${pen ? 'L' : 'M'}${x(times[i]!).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    }
  }
  // Legend.
  let lx = MARGIN.left;
  const ly = height - 8;
  for (const s of spec.series) {
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${lx + 14}" y="${ly}" class="legend">${escapeHtml(s.name)}</text>`,
    );
    lx += 24 + s.name.length * 7;
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The smallest 1, 2, 2.5 or 5 × 10^n at or above `value` (axis tops that read well). */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** 1234 → "1.2k", 0.5 → "0.5". */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  return Number(value.toPrecision(3)).toString();
}
