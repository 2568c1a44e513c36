// The h3 suite's app as an ES module: h3 comes in through `import`.
import { H3, HTTPError, handleCors, serve } from 'h3';
import { setUser } from 'otel-pg-analytics';
import { buildH3App, listen } from './h3-routes.cjs';

await listen(serve, buildH3App({ H3, HTTPError, handleCors, setUser }));
