export { correlationId, CORRELATION_HEADER } from './correlation.middleware';
export { errorHandler, notFound } from './error.middleware';
export { locals, type AppLocals } from './locals';
export { openapiRoutes, OPENAPI_FILE } from './openapi.routes';
export { opsRoutes } from './ops.routes';
export { requestLog } from './request-log.middleware';
