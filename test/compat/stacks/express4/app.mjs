// Express 4 (this stack's own) under the register entry.
import express from 'express';
import { setUser } from '../../../../dist/src/index.js';
import { buildExpressApp, serve } from '../../apps/express-app.mjs';

serve(buildExpressApp(express, { setUser, asyncHandlers: false }));
