// NestJS on its default adapter, Express (5, from @nestjs/platform-express), under the register entry.
import { serveNestApp } from './nest-app.mjs';

await serveNestApp();
