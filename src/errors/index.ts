export {
  AppError,
  ConfigError,
  NotFoundError,
  PermanentError,
  RateLimitedError,
  SignatureError,
  TransientError,
  UnknownTenantError,
  ValidationError,
  type Retry,
} from './app-error';
export { handleError, type ErrorSource, type HandledError } from './handle-error';
