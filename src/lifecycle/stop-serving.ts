import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Marks a connection already tracked, so a keep-alive connection costs one check per request. */
const kTracked = Symbol('otel-pg-analytics.served-connection');

/**
 * Server events that would let the app, or Node on its behalf, answer a client: each is
 * refused once serving stopped, by the index of the socket among the event's arguments
 * (`request` and its kin carry the request, whose socket it is).
 */
const GATED_EVENTS: ReadonlyMap<string, (args: unknown[]) => Socket | undefined> = new Map([
  ['request', requestSocket],
  ['checkContinue', requestSocket],
  ['checkExpectation', requestSocket],
  ['connection', (args: unknown[]) => args[0] as Socket | undefined],
  ['secureConnection', (args: unknown[]) => args[0] as Socket | undefined],
  ['upgrade', (args: unknown[]) => args[1] as Socket | undefined],
  ['connect', (args: unknown[]) => args[1] as Socket | undefined],
  // Unhandled, Node itself would answer 400 (or 408 to a slow request).
  ['clientError', (args: unknown[]) => args[1] as Socket | undefined],
]);

/** Open connections that carried an instrumented request, until they close. */
const connections = new Set<Socket>();
let stopped = false;

/**
 * Notes the connection of a request being served, so {@link stopServing} can cut it. Once per
 * connection; it is forgotten when it closes, so the set holds open connections only.
 */
export function trackServedConnection(socket: Socket | null | undefined): void {
  if (!socket || stopped) return;
  const tracked = socket as Socket & { [kTracked]?: true };
  if (tracked[kTracked] || socket.destroyed) return;
  tracked[kTracked] = true;
  connections.add(socket);
  socket.once('close', () => connections.delete(socket));
}

/** Whether {@link stopServing} ran: a connection closing now was cut by us, not by its client. */
export function servingStopped(): boolean {
  return stopped;
}

/**
 * Makes the process answer nothing more over HTTP/1, as it would if the signal had killed it:
 * every `http` and `https` server refuses new connections and requests by closing their
 * sockets without a response, and the connections that carried requests are closed, cutting
 * the requests in flight (their spans end, recorded as got no response). Listening sockets
 * stay open and no server emits `close`, so no app code runs that a killed process would not
 * have run. Resolves once the cut connections have closed, by which time their spans ended.
 * `http2` servers and connections already upgraded (WebSockets) are left alone: the
 * instrumentation records neither, so no row depends on them.
 * For the register entry's signal path only: there is no way back.
 */
export function stopServing(): Promise<void> {
  if (!stopped) {
    stopped = true;
    for (const name of ['node:http', 'node:https'] as const) {
      // Outermost, above the instrumentation's own wrapper: a refused request starts no span.
      gate((process.getBuiltinModule(name) as { Server: typeof Server }).Server.prototype);
    }
  }
  const closing = [...connections].map(
    (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
  );
  for (const socket of connections) socket.destroy();
  return Promise.all(closing).then(() => undefined);
}

function gate(prototype: { emit(event: string | symbol, ...args: unknown[]): boolean }): void {
  // Called with the server as `this`, exactly as Node would call it.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const emit = prototype.emit;
  prototype.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    const socketOf = typeof event === 'string' ? GATED_EVENTS.get(event) : undefined;
    if (socketOf === undefined) return emit.call(this, event, ...args);
    // Whoever emits (Node, or an adapter emitting a request of its own) must not get a throw.
    try {
      const socket = socketOf(args);
      if (typeof socket?.destroy === 'function') socket.destroy();
    } catch {
      // Nothing to close: the event is refused all the same.
    }
    return true;
  };
}

function requestSocket(args: unknown[]): Socket | undefined {
  return (args[0] as { socket?: Socket | null } | undefined)?.socket ?? undefined;
}
