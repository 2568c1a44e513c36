import { context, createContextKey, type Context } from '@opentelemetry/api';
import { keptUserId } from './set-user.js';

const USER_KEY = createContextKey('otel-pg-analytics.user');

/**
 * Runs `fn` on behalf of `userId`: outbound calls it makes outside any request (a job, a
 * queue consumer, a cron task) are attributed to that user, so their cost is too. Inside a
 * request, the request's own user (`setUser`, a login) comes first. Returns what `fn` returns.
 *
 * ```ts
 * await runAsUser(job.userId, () => summarizeWithGemini(job.document));
 * ```
 */
export function runAsUser<T>(userId: string | number, fn: () => T): T {
  const id = keptUserId(userId);
  if (id === undefined) return fn();
  return context.with(context.active().setValue(USER_KEY, id), fn);
}

/** The user `runAsUser` set in `ctx`, if any. */
export function userOfContext(ctx: Context): string | undefined {
  const value = ctx.getValue(USER_KEY);
  return typeof value === 'string' ? value : undefined;
}
