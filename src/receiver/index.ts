export { createApp, type Receiver, type ReceiverDeps } from './app';
export { BodyBudget } from './body-budget';
export { buildRawKey } from './raw-key';
export { parseSignatureHeader, signPayload, verifySignature } from './signature';
export { WebhookIntake, type IntakeResult, type TenantShare } from './webhook-intake';
export { WebhookRateLimit } from './webhook-rate-limit';
