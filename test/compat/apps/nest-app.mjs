// The NestJS app of the compatibility suite, on the Express or the Fastify adapter: a global
// prefix, controller paths with parameters of several shapes, an Error and an HttpException
// thrown on purpose, and CORS. Written without TypeScript: the decorators are called as
// functions, as the TypeScript compiler would call them.
import { Controller, Get, Module, NotFoundException, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { setUser } from 'otel-pg-analytics';

/** Applies Nest's method decorators to `Class.prototype[method]`, and `params` to its arguments. */
function route(Class, method, decorators, params = []) {
  const { prototype } = Class;
  Reflect.decorate(decorators, prototype, method, Object.getOwnPropertyDescriptor(prototype, method));
  params.forEach((decorator, index) => decorator(prototype, method, index));
}

class UsersController {
  find(id) {
    return { id };
  }
  missing(id) {
    throw new NotFoundException(`user ${id} not found`);
  }
}
Controller('users')(UsersController);
route(UsersController, 'find', [Get(':id')], [Param('id')]);
route(UsersController, 'missing', [Get(':id/missing')], [Param('id')]);

class ProfilesController {
  find(username) {
    setUser('user-7');
    return { username };
  }
}
Controller('profiles')(ProfilesController);
route(ProfilesController, 'find', [Get(':username')], [Param('username')]);

class V1Controller {
  post(slug) {
    return { slug };
  }
  order(orderId) {
    return { orderId };
  }
  project(orgId, projectId) {
    return { orgId, projectId };
  }
}
Controller('v1')(V1Controller);
route(V1Controller, 'post', [Get('posts/:slug')], [Param('slug')]);
route(V1Controller, 'order', [Get('orders/:orderId')], [Param('orderId')]);
route(
  V1Controller,
  'project',
  [Get('orgs/:orgId/projects/:projectId')],
  [Param('orgId'), Param('projectId')],
);

class BoomController {
  boom() {
    throw new Error('ledger write failed for batch 9');
  }
}
Controller()(BoomController);
route(BoomController, 'boom', [Get('boom')]);

class AppModule {}
Module({ controllers: [UsersController, ProfilesController, V1Controller, BoomController] })(AppModule);

/** Creates the app on `adapter` (Nest's default, Express, when undefined) and serves it. */
export async function serveNestApp(adapter) {
  const options = { logger: false };
  const app = adapter
    ? await NestFactory.create(AppModule, adapter, options)
    : await NestFactory.create(AppModule, options);
  app.setGlobalPrefix('api');
  app.enableCors();
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  process.stdout.write(`listening on ${(await app.getUrl()).replace('[::1]', '127.0.0.1')}\n`);
}
