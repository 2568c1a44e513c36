import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SERVICES,
  ServiceCatalog,
  type ServiceDefinition,
} from '../../src/pricing/service-catalog.js';

const catalog = new ServiceCatalog();

describe('ServiceCatalog.match', () => {
  it.each([
    ['generativelanguage.googleapis.com', 'gemini'],
    ['aiplatform.googleapis.com', 'vertex_ai'],
    ['us-central1-aiplatform.googleapis.com', 'vertex_ai'],
    ['api.openai.com', 'openai'],
    ['API.OpenAI.com', 'openai'],
    ['api.anthropic.com', 'anthropic'],
    ['abc.supabase.co', 'supabase'],
    ['abc.def.supabase.co', 'supabase'],
    ['xyz.supabase.in', 'supabase'],
    ['api.supabase.com', 'supabase'],
    ['brd.superproxy.io', 'brightdata'],
  ])('maps %s to %s', (host, name) => {
    expect(catalog.match(host, 443, '/')?.name).toBe(name);
  });

  it.each([
    'supabase.co',
    'evil-supabase.co',
    'abc.supabase.co.evil.com',
    'abc.supabase.com',
    'openai.com',
    'api.openai.com.evil.com',
    'xapi.openai.com',
    'example.com',
    '',
  ])('does not match %j', (host) => {
    expect(catalog.match(host, 443, '/')).toBeUndefined();
  });

  it('picks the priced Bright Data service for /request and the unpriced one for other paths', () => {
    const priced = catalog.match('api.brightdata.com', 443, '/request');
    expect(priced?.name).toBe('brightdata');
    expect(priced?.perRequestUsd).toBe(0.0015);
    const other = catalog.match('api.brightdata.com', 443, '/zone/list');
    expect(other?.name).toBe('brightdata');
    expect(other?.perRequestUsd).toBeUndefined();
  });

  it('matches a host pattern with a port only on that port', () => {
    const local = new ServiceCatalog([{ name: 'mock', hosts: ['127.0.0.1:4010'] }]);
    expect(local.match('127.0.0.1', 4010, '/')?.name).toBe('mock');
    expect(local.match('127.0.0.1', 4011, '/')).toBeUndefined();
    expect(local.match('127.0.0.1', undefined, '/')).toBeUndefined();
  });

  it('matches a host pattern without a port on any port', () => {
    expect(catalog.match('api.openai.com', 8443, '/')?.name).toBe('openai');
    expect(catalog.match('api.openai.com', undefined, '/')?.name).toBe('openai');
  });

  it('matches a wildcard host pattern with a port', () => {
    const local = new ServiceCatalog([{ name: 'dev', hosts: ['*.local.test:8080'] }]);
    expect(local.match('api.local.test', 8080, '/')?.name).toBe('dev');
    expect(local.match('api.local.test', 80, '/')).toBeUndefined();
  });

  it('answers the same for a host asked again, on other ports, paths and methods', () => {
    const local = new ServiceCatalog([
      { name: 'mock', hosts: ['127.0.0.1:4010'] },
      { name: 'records', hosts: ['127.0.0.1'], methods: ['GET'], pathPattern: '/records/*' },
    ]);
    for (let round = 0; round < 2; round++) {
      expect(local.match('127.0.0.1', 4010, '/')?.name).toBe('mock');
      expect(local.match('127.0.0.1', 4011, '/records/7', 'get')?.name).toBe('records');
      expect(local.match('127.0.0.1', 4011, '/records/7', 'POST')).toBeUndefined();
      expect(local.match('127.0.0.1', 4011, '/other', 'GET')).toBeUndefined();
      expect(local.match('API.OpenAI.com', 443, '/v1/chat/completions')?.name).toBe('openai');
    }
  });

  it('stays right past the number of hosts it remembers', () => {
    const local = new ServiceCatalog([{ name: 'mock', hosts: ['*.mock.test'] }]);
    for (let i = 0; i < 2100; i++) {
      expect(local.match(`h${i}.mock.test`, 443, '/')?.name).toBe('mock');
      expect(local.match(`h${i}.other.test`, 443, '/')).toBeUndefined();
    }
    expect(local.match('api.anthropic.com', 443, '/v1/messages')?.name).toBe('anthropic');
  });

  it('matches a path prefix only at the start of the path', () => {
    const s = new ServiceCatalog([{ name: 'search', hosts: ['api.example.com'], pathPrefix: '/v1/search' }]);
    expect(s.match('api.example.com', 443, '/v1/search?q=x')?.name).toBe('search');
    expect(s.match('api.example.com', 443, '/v1/search/deep')?.name).toBe('search');
    expect(s.match('api.example.com', 443, '/v2/v1/search')).toBeUndefined();
  });

  it('matches a path pattern as a whole path, `*` standing for one segment', () => {
    const s = new ServiceCatalog([{ name: 'item', hosts: ['api.example.com'], pathPattern: '/v1/items/*' }]);
    expect(s.match('api.example.com', 443, '/v1/items/42')?.name).toBe('item');
    expect(s.match('api.example.com', 443, '/v1/items/42/')?.name).toBe('item');
    expect(s.match('api.example.com', 443, '/v1/items/42/parts')).toBeUndefined();
    expect(s.match('api.example.com', 443, '/v1/items/')).toBeUndefined();
    expect(s.match('api.example.com', 443, '/v1/items.json')).toBeUndefined();
  });

  it('matches a service limited to some methods only for those methods, whatever their case', () => {
    const s = new ServiceCatalog([{ name: 'read', hosts: ['api.example.com'], methods: ['get'] }]);
    expect(s.match('api.example.com', 443, '/', 'GET')?.name).toBe('read');
    expect(s.match('api.example.com', 443, '/', 'POST')).toBeUndefined();
    expect(s.match('api.example.com', 443, '/')).toBeUndefined();
  });

  it('prices only the BrightData calls that deliver records per record', () => {
    const perRecord = (method: string, path: string) =>
      catalog.match('api.brightdata.com', 443, path, method)?.perRecordUsd !== undefined;
    expect(perRecord('GET', '/datasets/v3/snapshot/s_abc')).toBe(true);
    expect(perRecord('POST', '/datasets/v3/scrape')).toBe(true);
    // Progress, parts, delivery to storage and cancelling deliver no records here.
    expect(perRecord('GET', '/datasets/v3/progress/s_abc')).toBe(false);
    expect(perRecord('GET', '/datasets/v3/snapshot/s_abc/parts')).toBe(false);
    expect(perRecord('POST', '/datasets/v3/snapshot/s_abc/deliver')).toBe(false);
    expect(perRecord('POST', '/datasets/v3/snapshot/s_abc/cancel')).toBe(false);
    expect(perRecord('POST', '/datasets/v3/trigger')).toBe(false);
    expect(catalog.match('api.brightdata.com', 443, '/datasets/v3/snapshot/s_abc/parts', 'GET')?.name).toBe(
      'brightdata',
    );
  });

  it('tries user services before the built-in ones', () => {
    const mine: ServiceDefinition = { name: 'my-openai', hosts: ['api.openai.com'], perRequestUsd: 0.01 };
    expect(new ServiceCatalog([mine]).match('api.openai.com', 443, '/v1/chat/completions')).toBe(mine);
  });

  it('tries user services in the order given', () => {
    const first: ServiceDefinition = { name: 'first', hosts: ['*.example.com'] };
    const second: ServiceDefinition = { name: 'second', hosts: ['api.example.com'] };
    expect(new ServiceCatalog([first, second]).match('api.example.com', 443, '/')?.name).toBe('first');
  });

  it('still falls back to the built-in services when user services do not match', () => {
    const c = new ServiceCatalog([{ name: 'mine', hosts: ['mine.example.com'] }]);
    expect(c.match('api.anthropic.com', 443, '/')?.name).toBe('anthropic');
  });

  it('treats regex characters in host patterns literally', () => {
    const c = new ServiceCatalog([{ name: 'dots', hosts: ['a.b.com'] }]);
    expect(c.match('a.b.com', 443, '/')?.name).toBe('dots');
    expect(c.match('axb.com', 443, '/')).toBeUndefined();
  });

  it('does not let a wildcard cross into characters a host cannot hold', () => {
    const c = new ServiceCatalog([{ name: 'w', hosts: ['*.example.com'] }]);
    expect(c.match('evil.com/.example.com', 443, '/')).toBeUndefined();
    expect(c.match('a b.example.com', 443, '/')).toBeUndefined();
  });
});

describe('DEFAULT_SERVICES', () => {
  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_SERVICES)).toBe(true);
  });

  it('prices Supabase as a subscription', () => {
    const supabase = DEFAULT_SERVICES.find((s) => s.name === 'supabase');
    expect(supabase?.costModel).toBe('subscription');
  });
});
