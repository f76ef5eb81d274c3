export { CONSOLE_DIR, consoleRoutes } from './console.routes';
export { operatorRoutes, type OperatorRoutesDeps } from './operator.routes';
export { IntakeHistory, queueDepths, type IntakePoint, type QueueDepth, type TenantIntake } from './overview';
