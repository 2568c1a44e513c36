import { describe, expect, it } from 'vitest';
import { CATCH_ALL_ENDPOINT, UnroutedEndpointGuard } from '../../exporter/unrouted-endpoint-guard.js';

describe('UnroutedEndpointGuard', () => {
  it('stores shapes as they are while the service has room, and keeps storing those', () => {
    const guard = new UnroutedEndpointGuard({ maxShapes: 2, maxPrefixes: 1 });
    expect(guard.admit('svc', '/users/alice')).toBe('/users/alice');
    expect(guard.admit('svc', '/health')).toBe('/health');
    expect(guard.admit('svc', '/users/bob')).toBe('/users/*');
    // A shape stored before the budget ran out stays itself.
    expect(guard.admit('svc', '/users/alice')).toBe('/users/alice');
    expect(guard.admit('svc', '/health')).toBe('/health');
  });

  it('coarsens to /first/* while prefixes have room, then to /*', () => {
    const guard = new UnroutedEndpointGuard({ maxShapes: 1, maxPrefixes: 2 });
    expect(guard.admit('svc', '/a/1')).toBe('/a/1');
    expect(guard.admit('svc', '/a/2')).toBe('/a/*');
    expect(guard.admit('svc', '/b/x/y')).toBe('/b/*');
    expect(guard.admit('svc', '/c/z')).toBe(CATCH_ALL_ENDPOINT);
    expect(guard.admit('svc', '/a/3')).toBe('/a/*');
    // A one-segment shape has no coarser prefix than /*.
    expect(guard.admit('svc', '/wp-login')).toBe('/*');
  });

  it('always keeps the root', () => {
    const guard = new UnroutedEndpointGuard({ maxShapes: 0, maxPrefixes: 0 });
    expect(guard.admit('svc', '/')).toBe('/');
  });

  it('counts each service apart', () => {
    const guard = new UnroutedEndpointGuard({ maxShapes: 1, maxPrefixes: 0 });
    expect(guard.admit('a', '/x/1')).toBe('/x/1');
    expect(guard.admit('b', '/x/2')).toBe('/x/2');
    expect(guard.admit(null, '/x/3')).toBe('/x/3');
    expect(guard.admit('a', '/x/2')).toBe('/*');
  });

  it('lets services beyond maxServices share one budget', () => {
    const guard = new UnroutedEndpointGuard({ maxShapes: 1, maxPrefixes: 0, maxServices: 1 });
    expect(guard.admit('first', '/one')).toBe('/one');
    expect(guard.admit('second', '/two')).toBe('/two');
    expect(guard.admit('third', '/three')).toBe('/*');
    expect(guard.admit('second', '/two')).toBe('/two');
  });

  it('holds any service to maxShapes + maxPrefixes + 2 values, whatever comes', () => {
    const guard = new UnroutedEndpointGuard();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      seen.add(guard.admit('svc', i % 2 === 0 ? `/${i}` : `/p${i % 997}/q${i}`));
    }
    seen.add(guard.admit('svc', '/'));
    expect(seen.size).toBe(32 + 16 + 2);
  });
});
