import { describe, expect, it } from 'vitest';
import { reachedRouteOf, routerRouteFor } from '../../src/instrumentation/frameworks/koa-router-routes.js';

const middleware = (path: unknown) => ({ path, methods: [] });
const route = (path: unknown, ...methods: string[]) => ({ path, methods });

describe('reachedRouteOf', () => {
  it('is the matched route serving the method that the chain reached last', () => {
    const matched = [
      middleware('/api{/*rest}'),
      route('/users/me', 'HEAD', 'GET'),
      route('/users/:id', 'HEAD', 'GET'),
    ];
    expect(reachedRouteOf({ method: 'GET', matched, _matchedRoute: '/users/me' })).toBe('/users/me');
    expect(reachedRouteOf({ method: 'GET', matched, _matchedRoute: '/users/:id' })).toBe('/users/:id');
  });

  it('is the first route serving the method when a router middleware answered before it', () => {
    const matched = [
      middleware('/api{/*rest}'),
      route('/api/orders/:orderId', 'GET'),
      route('/api/orders/:x', 'GET'),
    ];
    expect(reachedRouteOf({ method: 'GET', matched, _matchedRoute: '/api{/*rest}' })).toBe(
      '/api/orders/:orderId',
    );
  });

  it('skips routes of other methods and middleware, and is undefined without a route', () => {
    const matched = [middleware('/api{/*rest}'), route('/items/:itemId', 'PUT')];
    expect(reachedRouteOf({ method: 'PUT', matched })).toBe('/items/:itemId');
    expect(reachedRouteOf({ method: 'GET', matched })).toBeUndefined();
    expect(reachedRouteOf({ method: 'GET', matched: [] })).toBeUndefined();
  });

  it('writes a RegExp path as written', () => {
    expect(reachedRouteOf({ method: 'GET', matched: [route(/^\/files\/.*$/, 'GET')] })).toBe(
      '/^\\/files\\/.*$/',
    );
  });

  it('is undefined, without throwing, for shapes it does not know', () => {
    expect(reachedRouteOf({})).toBeUndefined();
    expect(reachedRouteOf({ method: 'GET', matched: 'not layers' })).toBeUndefined();
    expect(
      reachedRouteOf({ method: 'GET', matched: [null, undefined, 7, { methods: 'GET' }, route(42, 'GET')] }),
    ).toBe(undefined);
  });
});

describe('routerRouteFor', () => {
  it('asks the router for the method and path, and takes its first route serving the method', () => {
    const asked: string[] = [];
    const router = {
      match(path: string, method: string) {
        asked.push(`${method} ${path}`);
        return {
          pathAndMethod: [
            middleware('{/*rest}'),
            route('/orders/:orderId', 'GET'),
            route('/orders/:id', 'GET'),
          ],
        };
      },
    };
    expect(routerRouteFor(router, '/orders/9', 'GET')).toBe('/orders/:orderId');
    expect(asked).toEqual(['GET /orders/9']);
  });

  it('is undefined when the router has no route for them', () => {
    expect(routerRouteFor({ match: () => ({ pathAndMethod: [] }) }, '/nope', 'GET')).toBeUndefined();
    expect(routerRouteFor({ match: () => undefined }, '/nope', 'GET')).toBeUndefined();
  });
});
