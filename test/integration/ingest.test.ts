import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpanKind, context, trace } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { IngestPipeline } from '../../ingest/ingest-pipeline.js';
import { IngestServer } from '../../ingest/ingest-server.js';
import { OTLP_TYPES } from '../../ingest/otlp-proto-root.js';
import { protectForeignAttributes } from '../../ingest/protect-foreign-attributes.js';
import { quote } from '../../src/config/resolve-options.js';
import { PrivacyPolicy } from '../../src/privacy/privacy-policy.js';
import {
  GO_RESOURCE,
  PYTHON_RESOURCE,
  authEventSpan,
  djangoServerSpan,
  goClientSpan,
  goServerSpan,
  hexId,
  otlpRequest,
  pythonRequestsClientSpan,
  START_NANOS,
  toProtobuf,
} from '../helpers/otlp-payloads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'];

interface Receiver {
  url: string;
  server: IngestServer;
  exporter: PostgresSpanExporter;
  close(): Promise<void>;
}

let db: TestDatabase;
const receivers: Receiver[] = [];

async function startReceiver(
  options: {
    token?: string;
    maxQueueRows?: number;
    maxBodyBytes?: number;
    maxInFlightBytes?: number;
    bodyIdleTimeoutMillis?: number;
    trustedProxies?: string[];
  } = {},
): Promise<Receiver> {
  const exporter = new PostgresSpanExporter({
    connectionString: db.url,
    statsIntervalMillis: 0,
    ...(options.maxQueueRows !== undefined && { maxQueueRows: options.maxQueueRows }),
  });
  const privacy = new PrivacyPolicy({
    trustedProxies: options.trustedProxies ?? [],
    ipMode: 'full',
    userIdMode: 'plain',
    hmacKey: undefined,
  });
  const pipeline = new IngestPipeline({ exporter });
  const server = new IngestServer({
    pipeline,
    port: 0,
    ...(options.token !== undefined && { token: options.token }),
    ...(options.maxBodyBytes !== undefined && { maxBodyBytes: options.maxBodyBytes }),
    ...(options.maxInFlightBytes !== undefined && { maxInFlightBytes: options.maxInFlightBytes }),
    ...(options.bodyIdleTimeoutMillis !== undefined && {
      bodyIdleTimeoutMillis: options.bodyIdleTimeoutMillis,
    }),
    protect: (attributes, kind) => protectForeignAttributes(attributes, kind, privacy),
  });
  const address = await server.listen();
  const receiver = {
    url: `http://127.0.0.1:${address.port}/v1/traces`,
    server,
    exporter,
    async close() {
      await server.close();
      await pipeline.shutdown();
    },
  };
  receivers.push(receiver);
  return receiver;
}

async function post(
  receiver: Receiver,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(receiver.url, { method: 'POST', body, headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  await receiver.exporter.forceFlush();
  return { status: response.status, headers: response.headers, body: bytes };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * An upload the test paces: `first` bytes of `body` are sent at once (with Content-Length
 * unless `chunked`), the rest on `finish()`. `answer` resolves with the response, whenever it
 * comes: before the body is complete when the receiver refuses it early.
 */
function upload(
  receiver: Receiver,
  body: Buffer,
  options: { first: number; chunked?: boolean },
): { finish(): void; answer: Promise<Answer> } {
  const req = httpRequest(receiver.url, {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': JSON_TYPE,
      ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length }),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
  });
  if (options.first > 0) req.write(body.subarray(0, options.first));
  else req.flushHeaders();
  return {
    finish: () => req.end(body.subarray(options.first)),
    answer,
  };
}

/**
 * Sends the headers of an upload of `declared` bytes on a connection kept alive (as exporters
 * send; with `close`, `Connection: close`), then as much of the body as the connection takes,
 * or none with `stall`. Resolves once the receiver closes the connection, with the status it
 * answered and the bytes sent.
 */
function rawUpload(
  receiver: Receiver,
  declared: number,
  options: { stall?: boolean; close?: boolean } = {},
): Promise<{ status: number; sent: number }> {
  const url = new URL(receiver.url);
  const socket = connect(Number(url.port), url.hostname);
  let text = '';
  let sent = 0;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => {});
  socket.write(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${JSON_TYPE}\r\n` +
      `Content-Length: ${declared}\r\n${options.close ? 'Connection: close\r\n' : ''}\r\n`,
  );
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = (): void => {
    while (sent < declared && !socket.destroyed) {
      sent += chunk.length;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
  };
  if (!options.stall) pump();
  return new Promise((resolve) =>
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), sent })),
  );
}

/** Resolves once the receiver holds at least `bytes` against its budget. */
async function untilHeld(receiver: Receiver, bytes: number): Promise<void> {
  while (receiver.server.inFlightBytes < bytes) await new Promise((resolve) => setImmediate(resolve));
}

/** A valid OTLP/JSON export of `rows` Django requests, padded with spaces to `bytes`. */
function paddedExport(rows: number, bytes: number): Buffer {
  const spans = Array.from({ length: rows }, () => djangoServerSpan());
  const json = JSON.stringify(otlpRequest(PYTHON_RESOURCE, [{ scope: { name: 'django' }, spans }]));
  return Buffer.concat([Buffer.from(json), Buffer.alloc(bytes - Buffer.byteLength(json), 0x20)]);
}

async function rowCount(): Promise<number> {
  let total = 0;
  for (const table of TABLES) {
    const [row] = await db.query<{ n: string }>(`select count(*) as n from ${table}`);
    total += Number(row!.n);
  }
  return total;
}

async function everyRowAsText(): Promise<string> {
  const texts: string[] = [];
  for (const table of TABLES) {
    const rows = await db.query<{ t: string }>(`select row_to_json(t)::text as t from ${table} t`);
    texts.push(...rows.map((r) => r.t));
  }
  return texts.join('\n');
}

beforeAll(async () => {
  db = await createTestDatabase('ingest');
});

afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  await db.drop();
});

beforeEach(async () => {
  for (const table of TABLES) await db.query(`delete from ${table}`);
});

describe('ingest: spans of other languages land as rows', () => {
  it('writes a Python service (old HTTP conventions, OTLP/JSON) request, outbound call and auth event', async () => {
    const receiver = await startReceiver();
    const traceId = hexId(16);
    const server = djangoServerSpan({ traceId, spanId: hexId(8) });
    const payload = otlpRequest(PYTHON_RESOURCE, [
      { scope: { name: 'opentelemetry.instrumentation.django', version: '0.48b0' }, spans: [server] },
      {
        scope: { name: 'opentelemetry.instrumentation.requests', version: '0.48b0' },
        spans: [pythonRequestsClientSpan({ traceId, parentSpanId: server.spanId! })],
      },
      { scope: { name: 'shop.auth' }, spans: [authEventSpan({ traceId, parentSpanId: server.spanId! })] },
    ]);
    const response = await post(receiver, JSON.stringify(payload), { 'content-type': JSON_TYPE });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(JSON_TYPE);
    expect(JSON.parse(response.body.toString())).toEqual({});

    const [api] = await db.query('select * from api_access_log');
    expect(api).toMatchObject({
      trace_id: traceId,
      service_name: 'shop-django',
      method: 'GET',
      path: '/api/items/42/',
      endpoint: 'api/items/<int:item_id>/',
      status_code: 200,
      ip_address: '198.51.100.23',
      peer_address: '198.51.100.23',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
      user_id: 'py-user-7',
      query_params: { access_token: 'REDACTED', page: '2' },
      sample_weight: 1,
    });
    expect(api!.response_time_ms).toBeCloseTo(25, 3);
    expect((api!.time as Date).toISOString()).toBe(new Date(Number(START_NANOS / 1_000_000n)).toISOString());

    const [call] = await db.query('select * from external_api_call_log');
    expect(call).toMatchObject({
      service: 'openai',
      method: 'GET',
      status_code: 200,
      endpoint: 'https://api.openai.com/v1/models',
      service_name: 'shop-django',
    });

    const [auth] = await db.query('select * from authentication_log');
    expect(auth).toMatchObject({
      event_type: 'login_failed',
      success: false,
      user_id: 'alice@example.com',
      ip_address: '203.0.113.50',
      user_agent: 'Mozilla/5.0',
      metadata: { method: 'password', password: 'REDACTED' },
    });
    expect(auth!.error_message).toContain('invalid password');

    const stored = await everyRowAsText();
    for (const secret of ['py-secret-123', 'sk-proj-abcdefghij', 'hunter2', 'abc123secret']) {
      expect(stored).not.toContain(secret);
    }
  });

  it('writes a Go service (stable conventions for the server, old for the client) sent as protobuf', async () => {
    const receiver = await startReceiver();
    const traceId = hexId(16);
    const upstream = hexId(8);
    const server = goServerSpan({ traceId, spanId: hexId(8), parentSpanId: upstream });
    const payload = otlpRequest(GO_RESOURCE, [
      {
        scope: { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: '0.59.0' },
        spans: [server, goClientSpan({ traceId, parentSpanId: server.spanId! })],
      },
    ]);
    const response = await post(receiver, toProtobuf(payload), { 'content-type': PROTOBUF });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    expect(response.body.length).toBe(0);

    const [api] = await db.query('select * from api_access_log');
    expect(api).toMatchObject({
      service_name: 'billing-go',
      method: 'POST',
      path: '/invoices/981/pay',
      endpoint: '/invoices/{id}/pay',
      status_code: 502,
      // client.address comes from X-Forwarded-For: with no trusted proxy, the peer is the client.
      ip_address: '10.1.2.3',
      peer_address: '10.1.2.3',
      user_agent: 'Go-http-client/2.0',
      query_params: { sig: 'REDACTED', dry_run: 'false' },
      error_message: 'Bad Gateway',
    });
    const [call] = await db.query('select * from external_api_call_log');
    expect(call).toMatchObject({
      service: 'brightdata',
      method: 'POST',
      status_code: 200,
      endpoint: 'https://api.brightdata.com/request',
      request_size: '210',
    });
    expect(Number(call!.cost_estimate)).toBeCloseTo(0.0015, 8);
    expect(await everyRowAsText()).not.toContain('go-secret-456');
  });

  it('believes a foreign client.address only when the peer is a trusted proxy', async () => {
    const receiver = await startReceiver({ trustedProxies: ['10.0.0.0/8'] });
    const payload = otlpRequest(GO_RESOURCE, [{ scope: { name: 'otelhttp' }, spans: [goServerSpan()] }]);
    expect((await post(receiver, toProtobuf(payload), { 'content-type': PROTOBUF })).status).toBe(200);
    const [api] = await db.query('select ip_address, peer_address from api_access_log');
    expect(api).toEqual({ ip_address: '203.0.113.99', peer_address: '10.1.2.3' });
  });

  it('writes spans of the Node SDK serialized by its own OTLP protobuf serializer, gzipped', async () => {
    const receiver = await startReceiver();
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      sampler: new AlwaysOnSampler(),
      resource: resourceFromAttributes({ 'service.name': 'node-sidecar' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const tracer = provider.getTracer('node-sidecar-http', '1.0.0');
    const request = tracer.startSpan('GET /health/deep', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/reports/7',
        'url.query': 'password=node-secret-789',
        'http.response.status_code': 201,
        'network.peer.address': '192.0.2.10',
      },
    });
    const call = tracer.startSpan(
      'POST',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'url.full': 'https://api.anthropic.com/v1/messages',
          'server.address': 'api.anthropic.com',
          'http.response.status_code': 200,
        },
      },
      trace.setSpan(context.active(), request),
    );
    call.end();
    request.end();
    const body = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!;
    const response = await post(receiver, gzipSync(body), {
      'content-type': PROTOBUF,
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    const [api] = await db.query('select * from api_access_log');
    expect(api).toMatchObject({
      service_name: 'node-sidecar',
      path: '/reports/7',
      status_code: 201,
      query_params: { password: 'REDACTED' },
      ip_address: '192.0.2.10',
      trace_id: request.spanContext().traceId,
      span_id: request.spanContext().spanId,
    });
    const [external] = await db.query('select service, user_id from external_api_call_log');
    expect(external).toMatchObject({ service: 'anthropic' });
    await provider.shutdown();
  });

  it('accepts gzipped OTLP/JSON', async () => {
    const receiver = await startReceiver();
    const payload = otlpRequest(PYTHON_RESOURCE, [
      { scope: { name: 'django' }, spans: [djangoServerSpan()] },
    ]);
    const response = await post(receiver, gzipSync(JSON.stringify(payload)), {
      'content-type': 'application/json; charset=utf-8',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    expect(await rowCount()).toBe(1);
  });

  it('reports spans with invalid ids as a partial success and writes the rest', async () => {
    const receiver = await startReceiver();
    const payload = otlpRequest(PYTHON_RESOURCE, [
      {
        scope: { name: 'django' },
        spans: [
          djangoServerSpan(),
          djangoServerSpan({ traceId: '0'.repeat(32) }),
          djangoServerSpan({ spanId: 'xyz' }),
        ],
      },
    ]);
    const response = await post(receiver, JSON.stringify(payload), { 'content-type': JSON_TYPE });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: 'invalid trace or span id' },
    });
    expect(await rowCount()).toBe(1);

    const protobufResponse = await post(receiver, toProtobuf(payload), { 'content-type': PROTOBUF });
    const decoded = OTLP_TYPES.exportResponse.toObject(
      OTLP_TYPES.exportResponse.decode(protobufResponse.body),
      {
        longs: String,
      },
    );
    expect(decoded).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: 'invalid trace or span id' },
    });
  });

  it('skips spans that are no request, call or auth event (database, internal, gRPC spans)', async () => {
    const receiver = await startReceiver();
    const payload = otlpRequest(PYTHON_RESOURCE, [
      {
        scope: { name: 'opentelemetry.instrumentation.psycopg2' },
        spans: [
          { name: 'SELECT', kind: 3, attributes: { 'db.system': 'postgresql' } },
          { name: 'render', kind: 1, attributes: { 'http.method': 'GET' } },
          { name: 'grpc', kind: 2, attributes: { 'rpc.system': 'grpc' } },
        ],
      },
    ]);
    expect((await post(receiver, JSON.stringify(payload), { 'content-type': JSON_TYPE })).status).toBe(200);
    expect(await rowCount()).toBe(0);
  });
});

describe('ingest: refusals, with nothing written', () => {
  const valid = () =>
    JSON.stringify(
      otlpRequest(PYTHON_RESOURCE, [{ scope: { name: 'django' }, spans: [djangoServerSpan()] }]),
    );

  it('answers 415 to another content type', async () => {
    const receiver = await startReceiver();
    const response = await post(receiver, valid(), { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(await rowCount()).toBe(0);
  });

  it('answers 415 to an unknown content encoding', async () => {
    const receiver = await startReceiver();
    const response = await post(receiver, valid(), { 'content-type': JSON_TYPE, 'content-encoding': 'br' });
    expect(response.status).toBe(415);
    expect(await rowCount()).toBe(0);
  });

  it('answers 400 with a google.rpc.Status to bodies that do not decode', async () => {
    const receiver = await startReceiver();
    const garbageJson = await post(receiver, '{"resourceSpans": [', { 'content-type': JSON_TYPE });
    expect(garbageJson.status).toBe(400);
    expect(JSON.parse(garbageJson.body.toString())).toMatchObject({ code: 3 });
    const wrongShape = await post(receiver, '{"resourceSpans": {"a": 1}}', { 'content-type': JSON_TYPE });
    expect(wrongShape.status).toBe(400);
    const garbageProtobuf = await post(receiver, Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]), {
      'content-type': PROTOBUF,
    });
    expect(garbageProtobuf.status).toBe(400);
    expect(OTLP_TYPES.status.toObject(OTLP_TYPES.status.decode(garbageProtobuf.body))).toMatchObject({
      code: 3,
    });
    const badGzip = await post(receiver, Buffer.from('not gzip at all'), {
      'content-type': JSON_TYPE,
      'content-encoding': 'gzip',
    });
    expect(badGzip.status).toBe(400);
    expect(await rowCount()).toBe(0);
  });

  it('answers 413 to a body over the limit, declared or inflated', async () => {
    const receiver = await startReceiver({ maxBodyBytes: 64 * 1024 });
    const big = Buffer.alloc(65 * 1024, 0x20);
    expect((await post(receiver, big, { 'content-type': JSON_TYPE })).status).toBe(413);
    // A few hundred bytes of gzip that inflate past the limit.
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(
      (await post(receiver, bomb, { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' })).status,
    ).toBe(413);
    // The connection is still good for the next export.
    expect((await post(receiver, valid(), { 'content-type': JSON_TYPE })).status).toBe(200);
    expect(await rowCount()).toBe(1);
  });

  it('answers a refused upload at once, and cuts the sender off once it sends maxBodyBytes more', async () => {
    const receiver = await startReceiver({ maxBodyBytes: 64 * 1024 });
    const declared = 100 * 1024 * 1024;
    const req = httpRequest(receiver.url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': JSON_TYPE, 'content-length': declared },
    });
    const status = new Promise<number>((resolve) => req.on('response', (r) => resolve(r.statusCode ?? 0)));
    let sent = 0;
    const closed = new Promise<void>((resolve) => {
      req.on('error', () => resolve());
      req.on('close', () => resolve());
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (sent < declared && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
    };
    pump();
    expect(await status).toBe(413);
    await closed;
    // Cut off long before the 100 MiB it declared.
    expect(sent).toBeLessThan(declared / 2);
  });

  it('cuts off a sender on a kept-alive connection once it sends maxBodyBytes more', async () => {
    const receiver = await startReceiver({ maxBodyBytes: 64 * 1024 });
    const declared = 100 * 1024 * 1024;
    const { status, sent } = await rawUpload(receiver, declared);
    expect(status).toBe(413);
    expect(sent).toBeLessThan(declared / 2);
  });

  it('cuts off a refused sender once it sends the largest body the budget allows more, not maxBodyBytes', async () => {
    // maxBodyBytes is lowered to what the budget can hold, 192 KiB of the 256.
    const receiver = await startReceiver({ maxBodyBytes: 64 * 1024 * 1024, maxInFlightBytes: 256 * 1024 });
    const declared = 100 * 1024 * 1024;
    const { status, sent } = await rawUpload(receiver, declared, { close: true });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('closes the connection of a refused sender that stops sending', async () => {
    const receiver = await startReceiver({ maxBodyBytes: 64 * 1024, bodyIdleTimeoutMillis: 200 });
    const { status, sent } = await rawUpload(receiver, 1024 * 1024, { stall: true });
    expect(status).toBe(413);
    expect(sent).toBe(0);
  });

  it('answers 503 with Retry-After when the exporter queue has no room, and takes nothing', async () => {
    const receiver = await startReceiver({ maxQueueRows: 1 });
    const payload = otlpRequest(PYTHON_RESOURCE, [
      { scope: { name: 'django' }, spans: [djangoServerSpan(), djangoServerSpan()] },
    ]);
    const response = await post(receiver, JSON.stringify(payload), { 'content-type': JSON_TYPE });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await rowCount()).toBe(0);
  });

  it('answers 404 and 405 off the traces endpoint', async () => {
    const receiver = await startReceiver();
    expect((await fetch(receiver.url.replace('/v1/traces', '/v1/logs'), { method: 'POST' })).status).toBe(
      404,
    );
    expect((await fetch(receiver.url)).status).toBe(405);
  });

  it('requires the bearer token when one is set', async () => {
    const receiver = await startReceiver({ token: 's3cret-token' });
    const headers = { 'content-type': JSON_TYPE };
    expect((await post(receiver, valid(), headers)).status).toBe(401);
    expect((await post(receiver, valid(), { ...headers, authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await rowCount()).toBe(0);
    expect((await post(receiver, valid(), { ...headers, authorization: 'Bearer s3cret-token' })).status).toBe(
      200,
    );
    expect(await rowCount()).toBe(1);
  });
});

describe('ingest: a budget of bytes in flight across requests', () => {
  const KiB = 1024;

  it('answers 503 with Retry-After before reading a declared body the budget has no room for', async () => {
    // Large bodies may hold 192 KiB of the 256 KiB.
    const receiver = await startReceiver({ maxInFlightBytes: 256 * KiB });
    const holding = upload(receiver, paddedExport(1, 151 * KiB), { first: 150 * KiB });
    await untilHeld(receiver, 150 * KiB);
    // Headers only: the answer comes before any of the body is sent.
    const refused = upload(receiver, paddedExport(1, 100 * KiB), { first: 0 });
    const answer = await refused.answer;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(JSON.parse(answer.body.toString())).toMatchObject({ code: 14 });
    refused.finish();
    holding.finish();
    expect((await holding.answer).status).toBe(200);
    // The budget is free again: the refused export, sent again, is taken.
    const retried = upload(receiver, paddedExport(1, 100 * KiB), { first: 0 });
    retried.finish();
    expect((await retried.answer).status).toBe(200);
    await receiver.exporter.forceFlush();
    expect(await rowCount()).toBe(2);
  });

  it('reserves an undeclared (chunked) body as it arrives and answers 503 once it would pass the budget', async () => {
    const receiver = await startReceiver({ maxInFlightBytes: 256 * KiB });
    const holding = upload(receiver, paddedExport(1, 151 * KiB), { first: 150 * KiB });
    await untilHeld(receiver, 150 * KiB);
    const chunked = upload(receiver, paddedExport(1, 100 * KiB), { first: 30 * KiB, chunked: true });
    // 30 KiB fit beside the 150; the rest would not.
    chunked.finish();
    const answer = await chunked.answer;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    holding.finish();
    expect((await holding.answer).status).toBe(200);
    await receiver.exporter.forceFlush();
    expect(await rowCount()).toBe(1);
  });

  it('keeps room for small exports while large ones fill their share', async () => {
    const receiver = await startReceiver({ maxInFlightBytes: 256 * KiB });
    const large = upload(receiver, paddedExport(1, 191 * KiB), { first: 190 * KiB });
    await untilHeld(receiver, 190 * KiB);
    const anotherLarge = upload(receiver, paddedExport(1, 20 * KiB), { first: 0 });
    expect((await anotherLarge.answer).status).toBe(503);
    anotherLarge.finish();
    // A small export (at most 8 KiB of the 256) still fits in the kept quarter.
    const small = upload(receiver, paddedExport(1, 4 * KiB), { first: 0 });
    small.finish();
    expect((await small.answer).status).toBe(200);
    large.finish();
    expect((await large.answer).status).toBe(200);
    await receiver.exporter.forceFlush();
    expect(await rowCount()).toBe(2);
  });

  it('holds only the bytes a sender has sent, so one that declares a large body and stalls keeps no one out', async () => {
    const receiver = await startReceiver({ maxInFlightBytes: 256 * KiB });
    // Declares all large bodies may hold, sends a few bytes and waits.
    const stalled = upload(receiver, paddedExport(1, 192 * KiB), { first: 10 });
    await untilHeld(receiver, 10);
    expect(receiver.server.inFlightBytes).toBe(10);
    const other = upload(receiver, paddedExport(1, 150 * KiB), { first: 0 });
    other.finish();
    expect((await other.answer).status).toBe(200);
    stalled.finish();
    expect((await stalled.answer).status).toBe(200);
    await receiver.exporter.forceFlush();
    expect(await rowCount()).toBe(2);
  });

  it('answers 408 to a body that stops arriving, closing the connection and giving its bytes back', async () => {
    const receiver = await startReceiver({ maxInFlightBytes: 256 * KiB, bodyIdleTimeoutMillis: 200 });
    const stalled = upload(receiver, paddedExport(1, 151 * KiB), { first: 150 * KiB });
    await untilHeld(receiver, 150 * KiB);
    const answer = await stalled.answer;
    expect(answer.status).toBe(408);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body.toString())).toEqual({
      code: 4,
      message: 'no bytes of the body arrived for 200 ms',
    });
    expect(receiver.server.inFlightBytes).toBe(0);
    const next = upload(receiver, paddedExport(1, 150 * KiB), { first: 0 });
    next.finish();
    expect((await next.answer).status).toBe(200);
    await receiver.exporter.forceFlush();
    expect(await rowCount()).toBe(1);
  });

  it('answers 413 to a body the budget could never hold (over three quarters of it)', async () => {
    const receiver = await startReceiver({ maxInFlightBytes: 256 * KiB });
    const response = await post(receiver, paddedExport(1, 193 * KiB), { 'content-type': JSON_TYPE });
    expect(response.status).toBe(413);
    expect(await rowCount()).toBe(0);
  });

  it('refuses an invalid maxInFlightBytes in code, naming it', () => {
    const pipeline = { submit: () => ({ accepted: true as const, rows: 0 }) };
    for (const value of [0, -1, 1.5, Number.NaN, '64MiB']) {
      expect(() => new IngestServer({ pipeline, port: 0, maxInFlightBytes: value as number })).toThrow(
        `Invalid maxInFlightBytes: ${quote(value)}`,
      );
    }
  });

  it('refuses an invalid bodyIdleTimeoutMillis in code, naming it', () => {
    const pipeline = { submit: () => ({ accepted: true as const, rows: 0 }) };
    for (const value of [0, -5, 0.5, Number.POSITIVE_INFINITY, '10s']) {
      expect(() => new IngestServer({ pipeline, port: 0, bodyIdleTimeoutMillis: value as number })).toThrow(
        `Invalid bodyIdleTimeoutMillis: ${quote(value)}`,
      );
    }
  });
});
