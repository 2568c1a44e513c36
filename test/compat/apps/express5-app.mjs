// Express 5 (the root's) under the register entry.
import express from 'express';
import { setUser } from 'otel-pg-analytics';
import { buildExpressApp, serve } from './express-app.mjs';

serve(buildExpressApp(express, { setUser, asyncHandlers: true }));
