export { MediaStore } from './media.store';
export { ObjectStore, type ListedObject, type StoredObject } from './object.store';
export { applyRetention, retentionRules, type RetentionDays } from './retention';
export { failedKey, FAILED_PREFIX, RAW_TAG, RawPayloadStore, type ArchiveRequest, type FailedEntry, type FailedRequest } from './raw-payload.store';
export { createMinio, createS3 } from './s3.client';
