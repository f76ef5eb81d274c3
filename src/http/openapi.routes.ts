import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from 'express';
import { parse } from 'yaml';

/** Where the spec sits relative to this file, in the repository (src/http) and the image (dist/http) alike. */
export const OPENAPI_FILE = join(__dirname, '../../openapi/openapi.yaml');

/** `GET /openapi.yaml` and `GET /openapi.json`: the API description, read once at start. */
export function openapiRoutes(file = OPENAPI_FILE): Router {
  const yaml = readFileSync(file, 'utf8');
  const json = JSON.stringify(parse(yaml));
  const router = Router();
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(yaml);
  });
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  return router;
}
