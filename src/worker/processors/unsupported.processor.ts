import { obj, str } from '../../meta';
import type { Processor } from './processor';

/** `unsupported` / `unknown`: Meta could not deliver the content; its `errors` say why (added to every message's content). */
export const unsupportedProcessor: Processor = ({ message }) => ({ unsupportedType: str(obj(message.unsupported)?.type) ?? null });
