import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';
import { VERSION } from '../../version.js';
import { reportUnrouted } from './report-route.js';
import { reportThrownError } from './report-thrown-error.js';

/** Where Nest keeps the handler every route's and middleware's exceptions go through. */
export const NEST_EXCEPTIONS_HANDLER_FILE = '@nestjs/core/exceptions/exceptions-handler.js';

/**
 * `ExceptionsHandler.next(exception, host)` has had this shape since Nest 5; 12 (ESM) is the
 * version the compatibility suite runs, 10 and 11 (CommonJS) load the same file by `require`.
 */
const SUPPORTED_VERSIONS = ['>=10.0.0 <13'];

interface ExceptionsHandlerModule {
  ExceptionsHandler?: { prototype: { next?: (exception: unknown, host: unknown) => unknown } };
}

/** The parts of Nest's `ArgumentsHost` read here: the request is argument 0. */
interface HostLike {
  getArgByIndex?(index: number): unknown;
}

/**
 * NestJS: notes the message of what a controller, guard, pipe, interceptor or middleware threw
 * on the request, `HttpException`s included (`NotFoundException('user 42 not found')`), as
 * Nest's `ExceptionsHandler` receives it, before its exception filters turn it into a response
 * that Express or Fastify see only as a status. Routes come from the adapter underneath
 * (Express's, read as the response ends, or the Fastify hooks). Nest's own answer to an
 * unknown path (`Cannot GET /x`, 404) is not an error of the app's, and leaves the request
 * unrouted, even when a catch-all route answered it. No spans.
 */
export class NestExceptionInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/nestjs-exceptions', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition('@nestjs/core', SUPPORTED_VERSIONS, undefined, undefined, [
      new InstrumentationNodeModuleFile(
        NEST_EXCEPTIONS_HANDLER_FILE,
        SUPPORTED_VERSIONS,
        (exports: ExceptionsHandlerModule) => this.#patch(exports),
        (exports: ExceptionsHandlerModule | undefined) => this.#unpatch(exports),
      ),
    ]);
  }

  #patch(exports: ExceptionsHandlerModule): ExceptionsHandlerModule {
    const prototype = exports?.ExceptionsHandler?.prototype;
    if (typeof prototype?.next !== 'function') {
      this._diag.debug('Nest ExceptionsHandler.next not found: thrown messages are not recorded');
      return exports;
    }
    this._wrap(
      prototype,
      'next',
      (original) =>
        function next(this: unknown, exception: unknown, host: unknown, ...rest: unknown[]) {
          safeExecute('nest exception', () => noteNestException(exception, host as HostLike), undefined);
          return (original as (...args: unknown[]) => unknown).call(this, exception, host, ...rest);
        },
    );
    return exports;
  }

  #unpatch(exports: ExceptionsHandlerModule | undefined): void {
    const prototype = exports?.ExceptionsHandler?.prototype;
    if (prototype) this._unwrap(prototype, 'next');
  }
}

function noteNestException(exception: unknown, host: HostLike): void {
  if (isNestNotFound(exception, host)) {
    // With a global prefix, Nest answers unknown paths from a catch-all route (`*path` in a
    // router at `/api` on Express) that would otherwise be recorded as the request's route.
    reportUnrouted();
    return;
  }
  reportThrownError(exception);
}

/** Nest's not-found handler throws `NotFoundException('Cannot <METHOD> <url>')`. */
function isNestNotFound(exception: unknown, host: HostLike): boolean {
  const message = (exception as { message?: unknown } | null | undefined)?.message;
  if (typeof message !== 'string') return false;
  const status = (exception as { getStatus?: () => unknown }).getStatus?.();
  if (status !== 404) return false;
  const method = (host.getArgByIndex?.(0) as { method?: unknown } | undefined)?.method;
  return typeof method === 'string' && message.startsWith(`Cannot ${method} `);
}
