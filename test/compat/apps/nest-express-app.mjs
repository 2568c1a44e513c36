// @ts-nocheck: an app written as users write theirs, in plain JavaScript.
// NestJS on its default adapter, Express (5, from @nestjs/platform-express), under the register entry.
import { serveNestApp } from './nest-app.mjs';

await serveNestApp();
