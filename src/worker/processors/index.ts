export { MEDIA_TYPES, type MediaPort, type MediaRequest, type MediaType, type Processor, type ProcessorInput } from './processor';
export { PROCESSORS, processorFor, type MessageType } from './registry';
