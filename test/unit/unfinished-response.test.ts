import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { responseFinished, watchResponseFinish } from '../../src/instrumentation/unfinished-response.js';

/** What a server saw of one response when it closed. */
interface Closed {
  finished: boolean;
  ended: boolean;
}

let server: ReturnType<typeof createServer> | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/**
 * Serves one request with `handle` (the response watched from its start) and resolves with what
 * the response was at its `'close'`; `send` writes the raw request over a fresh connection.
 */
async function serveOne(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  send: (socket: net.Socket) => void,
): Promise<Closed> {
  const closed = new Promise<Closed>((resolve) => {
    server = createServer((request, response) => {
      watchResponseFinish(response);
      response.on('close', () =>
        resolve({ finished: responseFinished(response), ended: response.writableEnded }),
      );
      handle(request, response);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server!.address() as AddressInfo).port, '127.0.0.1', () => send(socket));
  socket.on('error', () => undefined).resume();
  return closed;
}

describe('watchResponseFinish', () => {
  it('says a response its client got whole finished', async () => {
    const closed = await serveOne(
      (_request, response) => response.end('ok'),
      (socket) => socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    expect(closed).toEqual({ finished: true, ended: true });
  });

  it('says a response ended after its client closed the connection did not finish', async () => {
    // The app answers an upload cut off (as an error page would) once the connection closed,
    // before the response's own 'close': Node 22's computed `writableFinished` reads true then.
    const closed = await serveOne(
      (request, response) => {
        request.socket.prependListener('close', () => response.end('too late'));
      },
      (socket) =>
        socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart', () => socket.destroy()),
    );
    expect(closed).toEqual({ finished: false, ended: true });
  });

  it('adds its listener past the context binding instrumentation-http puts on the response', async () => {
    // instrumentation-http binds the response to the request's context before its hooks run:
    // every listener added through the instance is wrapped from then on.
    let finishListeners: string[] = [];
    const finished = new Promise<boolean>((resolve) => {
      server = createServer((_request, response) => {
        new AsyncLocalStorageContextManager().bind(ROOT_CONTEXT, response);
        watchResponseFinish(response);
        finishListeners = response.listeners('finish').map((listener) => listener.name);
        response.on('close', () => resolve(responseFinished(response)));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((server!.address() as AddressInfo).port, '127.0.0.1', () =>
      socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    socket.on('error', () => undefined).resume();
    expect(await finished).toBe(true);
    expect(finishListeners).toContain('markFinished');
    expect(finishListeners).not.toContain('contextWrapper');
  });
});
