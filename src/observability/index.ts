export { currentContext, runWithContext, setContextTenant, type LogContext } from './context';
export { createLogger, type Logger, type LoggerOptions } from './logger';
export { createLogOutput, type LogOutput } from './log-output';
export { LogThrottle } from './log-throttle';
export { Metrics } from './metrics';
export { Readiness, type CheckResult, type DependencyCheck, type ReadinessReport } from './readiness';
export { redact, redactString } from './redact';
