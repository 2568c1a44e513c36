import type { EnvSnapshot } from '../env.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../support/diag.js';
import { defaultOf, type OptionSpec, type ResolvedOption } from './option-spec.js';

const logger = createLogger('config');

/** A table of option specs, as {@link resolveOptions} takes it. */
type Specs = Record<string, OptionSpec<unknown>>;

/** Where values come from besides code: the env snapshot and the parsed config file. */
export interface OptionSources {
  env?: EnvSnapshot;
  file?: Record<string, unknown>;
}

/**
 * Every option of `specs`, from code, then the env, then the config file, then its default.
 * A value in code is checked with {@link checkOptionValue} (an invalid one throws); an invalid
 * env or file value is reported with `diag.warn` and the next source is used. Lists are copied
 * and frozen, so no two resolved configs share an array. The result is not frozen yet, so the
 * caller can apply rules that span options first.
 */
export function resolveOptions<S extends Specs>(
  specs: S,
  code: { readonly [K in keyof S]?: unknown },
  sources: OptionSources = {},
): { -readonly [K in keyof S]: ResolvedOption<S[K]> } {
  const env = sources.env ?? {};
  const file = sources.file ?? {};
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = resolveOne(name, spec, code[name], env, file);
    resolved[name] = Array.isArray(value) ? Object.freeze([...(value as readonly unknown[])]) : value;
  }
  return resolved as { -readonly [K in keyof S]: ResolvedOption<S[K]> };
}

/** A value given in code: returned checked (and trimmed), or a {@link ConfigError} quoting it. */
export function checkOptionValue<T>(name: string, spec: OptionSpec<T>, value: unknown): T {
  const checked = spec.check(value);
  if (checked === undefined) {
    throw new ConfigError(`Invalid ${name}: ${(spec.display ?? quote)(value)} (expected ${spec.expected})`);
  }
  return checked;
}

function resolveOne<T>(
  name: string,
  spec: OptionSpec<T>,
  fromCode: unknown,
  env: EnvSnapshot,
  file: Record<string, unknown>,
): T | undefined {
  if (fromCode !== undefined) return checkOptionValue(name, spec, fromCode);
  const show = spec.display ?? quote;
  const fallback = spec.fallback ?? 'using the default';
  for (const reader of spec.env ?? []) {
    const raw = env[reader.name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = reader.parse(raw.trim(), env);
    if (value === null) continue;
    if (value !== undefined) return value;
    logger.warn(
      `Invalid ${reader.name}=${show(raw)} (expected ${reader.expected ?? spec.expected}); ${fallback}`,
    );
  }
  if (file[name] !== undefined) {
    const value = spec.check(file[name]);
    if (value !== undefined) return value;
    logger.warn(
      `Invalid ${name} in the config file: ${show(file[name])} (expected ${spec.expected}); ${fallback}`,
    );
  }
  return defaultOf(spec, env);
}

/** A value as messages show it: JSON, shortened; `NaN` and `Infinity` as written. */
export function quote(value: unknown): string {
  try {
    // JSON would show NaN and Infinity as null, which is not what the user wrote.
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
