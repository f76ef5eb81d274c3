export { correlationId, correlationIdFrom, CORRELATION_HEADER } from './correlation.middleware';
export { answerError, errorHandler, notFound } from './error.middleware';
export { locals, type AppLocals } from './locals';
export { openapiRoutes, OPENAPI_FILE } from './openapi.routes';
export { metricsRoutes, opsRoutes } from './ops.routes';
export { recordRequest, requestLog, type RequestRecord } from './request-log.middleware';
export { sendJson } from './send-json';
