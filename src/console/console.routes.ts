import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';

/** The page's built files (`npm run build:console`), beside `src` and `dist` alike. */
export const CONSOLE_DIR = join(__dirname, '../../console/dist');

/**
 * Only this origin's own files, nothing inline, no framing: a page that holds an admin token must
 * not run a script someone slipped into a payload, nor be framed by another site.
 */
const POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `/console`: the operator's and tenants' web page, static files calling the existing APIs with the
 * token the person signs in with (kept in the tab's session storage, never in a cookie: nothing
 * here a cross-site request can ride on). A 503 says so when the files were not built.
 */
export function consoleRoutes(dir = CONSOLE_DIR): Router {
  const router = Router();
  router.use('/console', (_req, res, next) => {
    res.set({ 'Content-Security-Policy': POLICY, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
    next();
  });
  // One route for `/console` and `/console/` (Express routes are not strict about the slash).
  router.get('/console', (req, res) => {
    // Relative asset paths resolve under /console/.
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(301, '/console/');
    const index = join(dir, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build` (or `npm run build:console`).\n');
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
  router.use('/console', express.static(dir, { index: false, fallthrough: true, maxAge: '5m' }));
  return router;
}
