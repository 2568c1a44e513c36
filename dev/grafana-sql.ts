/**
 * Expands a Grafana PostgreSQL panel query the way Grafana does before PostgreSQL sees it, so
 * tests can run the dashboards' SQL as written. Two steps, as in Grafana:
 *
 * 1. The frontend (template service) replaces dashboard variables: `$var`, `${var}`,
 *    `${var:format}`, `[[var]]`, and the built-ins `$__interval`, `$__interval_ms`, `$__from`,
 *    `$__to`. The SQL data source formats values itself: a multi-value or include-All variable
 *    becomes a list of quoted literals (`'a','b'`), a single plain value is inserted with its
 *    single quotes doubled but unquoted, and a custom All value is inserted raw. Unknown names
 *    (the macros below) are left alone.
 * 2. The backend (grafana-postgresql-datasource's macro engine) replaces `$__name(args)`:
 *    `$__timeFilter(col)` → `col BETWEEN '<from>' AND '<to>'` (RFC 3339 UTC), `$__timeFrom()`,
 *    `$__timeTo()`, `$__timeGroup(col, interval[, fill])` →
 *    `floor(extract(epoch from col)/N)*N`, `$__timeGroupAlias` → the same `AS "time"` (also
 *    `$__timeGroup` directly followed by a comma, as Grafana does for pre-5.3 queries),
 *    `$__time(col)`, `$__timeEpoch(col)`, `$__unixEpochFilter(col)`, `$__unixEpochGroup` and
 *    `...Alias`. Arguments are split on commas and cannot contain `)`, as in Grafana; an unknown
 *    macro is an error. A fill argument changes only how Grafana fills empty buckets, not the SQL.
 */

/** A variable's current value, as the dashboard would hold it. */
export interface GrafanaVariable {
  /** One value, several (multi-value), or `ALL` for the All option. */
  value: string | string[] | typeof ALL;
  multi?: boolean;
  includeAll?: boolean;
  /** A custom All value, inserted raw when All is chosen. */
  allValue?: string | null;
  /** Every option, for All without a custom All value. */
  options?: string[];
}

/** The All option of a variable. */
export const ALL = Symbol('All');

/** What a panel query is expanded with. */
export interface GrafanaQueryContext {
  from: Date;
  to: Date;
  /** `$__interval` in milliseconds (Grafana derives it from the range and the panel width). */
  intervalMs: number;
  variables?: Readonly<Record<string, GrafanaVariable>>;
}

/** Both steps: variables, then macros. */
export function expandGrafanaSql(sql: string, context: GrafanaQueryContext): string {
  return expandMacros(interpolateVariables(sql, context), context);
}

/** An interval as Grafana writes `$__interval`: the largest whole unit (`5m`, `1h`, `30s`, `250ms`). */
export function formatInterval(ms: number): string {
  const units: [string, number][] = [
    ['y', 365 * 86_400_000],
    ['w', 7 * 86_400_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Grafana's interval syntax (gtime.ParseInterval), in seconds. */
export function parseIntervalSeconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)$/.exec(text.trim());
  if (!match) throw new Error(`error parsing interval ${text}`);
  const seconds: Record<string, number> = {
    ms: 0.001,
    s: 1,
    m: 60,
    h: 3600,
    d: 86_400,
    w: 604_800,
    M: 2_592_000,
    y: 31_536_000,
  };
  return Number(match[1]) * seconds[match[2]!]!;
}

const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Step 1: dashboard variables and the interval/range built-ins. */
export function interpolateVariables(sql: string, context: GrafanaQueryContext): string {
  const builtins: Record<string, string> = {
    __interval: formatInterval(context.intervalMs),
    __interval_ms: String(context.intervalMs),
    __from: String(context.from.getTime()),
    __to: String(context.to.getTime()),
  };
  return sql.replace(
    VARIABLE,
    (
      match,
      plain?: string,
      bracket?: string,
      bracketFormat?: string,
      braced?: string,
      _path?: string,
      format?: string,
    ) => {
      const name = plain ?? bracket ?? braced!;
      const fmt = bracketFormat ?? format;
      if (name in builtins) return builtins[name]!;
      const variable = context.variables?.[name];
      if (variable === undefined) return match;
      if (variable.value === ALL && variable.allValue) return variable.allValue;
      const value = variable.value === ALL ? (variable.options ?? []) : variable.value;
      return formatValue(value, variable, fmt);
    },
  );
}

function formatValue(
  value: string | string[],
  variable: GrafanaVariable,
  format: string | undefined,
): string {
  const values = Array.isArray(value) ? value : [value];
  switch (format) {
    case undefined:
      // The SQL data source's own formatting (SqlDatasource.interpolateVariable).
      if (Array.isArray(value)) return value.map(quoteLiteral).join(',');
      return variable.multi || variable.includeAll ? quoteLiteral(value) : value.replace(/'/g, "''");
    case 'raw':
      return values.join(',');
    case 'csv':
      return values.join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'sqlstring':
      return values.map(quoteLiteral).join(',');
    default:
      throw new Error(`variable format ${format} is not modelled here`);
  }
}

const MACRO = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;

/** Step 2: the PostgreSQL macro engine. */
export function expandMacros(sql: string, context: Pick<GrafanaQueryContext, 'from' | 'to'>): string {
  const from = rfc3339(context.from);
  const to = rfc3339(context.to);
  return sql.replace(MACRO, (whole: string, rawName: string, rawArgs: string, offset: number) => {
    let name = rawName;
    // Grafana: "$__timeGroup(...)," is the pre-5.3 form and means the alias.
    if (name === '__timeGroup' && sql[offset + whole.length] === ',') name = '__timeGroupAlias';
    const args = rawArgs.split(',').map((arg) => arg.trim());
    const column = (): string => {
      if (!args[0]) throw new Error(`missing time column argument for macro ${name}`);
      return args[0];
    };
    const group = (expression: (col: string, seconds: number) => string): string => {
      if (args.length < 2)
        throw new Error(`macro ${name} needs time column and interval and optional fill value`);
      const seconds = parseIntervalSeconds(args[1]!.replace(/^'|'$/g, ''));
      return expression(column(), seconds);
    };
    switch (name) {
      case '__time':
        return `${column()} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${column()}) as "time"`;
      case '__timeFilter':
        return `${column()} BETWEEN '${from}' AND '${to}'`;
      case '__timeFrom':
        return `'${from}'`;
      case '__timeTo':
        return `'${to}'`;
      case '__timeGroup':
        return group((col, s) => `floor(extract(epoch from ${col})/${s})*${s}`);
      case '__timeGroupAlias':
        return group((col, s) => `floor(extract(epoch from ${col})/${s})*${s} AS "time"`);
      case '__unixEpochFilter': {
        const col = column();
        return `${col} >= ${unix(context.from)} AND ${col} <= ${unix(context.to)}`;
      }
      case '__unixEpochGroup':
        return group((col, s) => `floor((${col})/${s})*${s}`);
      case '__unixEpochGroupAlias':
        return group((col, s) => `floor((${col})/${s})*${s} AS "time"`);
      default:
        throw new Error(`unknown macro "${name}"`);
    }
  });
}

/** Go's time.RFC3339Nano of a UTC time: no trailing zeros in the fraction, none at all when whole. */
function rfc3339(date: Date): string {
  return date
    .toISOString()
    .replace(/\.?0+Z$/, 'Z')
    .replace(/\.Z$/, 'Z');
}

function unix(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
