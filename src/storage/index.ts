export { MediaStore } from './media.store';
export { ObjectStore, type ListedObject, type StoredObject } from './object.store';
export { failedKey, FAILED_PREFIX, RawPayloadStore, type ArchiveRequest, type FailedRequest } from './raw-payload.store';
export { createS3 } from './s3.client';
