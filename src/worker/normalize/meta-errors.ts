import { num, obj, objects, str, type Json } from '../../meta';
import type { MetaError } from '../../contract';

/** Meta's error objects, normalized (they appear on messages, change values and statuses). */
export function metaErrors(value: Json | undefined): MetaError[] {
  return objects(value).map((e) => ({
    code: num(e.code) ?? null,
    title: str(e.title) ?? null,
    message: str(e.message) ?? null,
    details: str(obj(e.error_data)?.details) ?? null,
    href: str(e.href) ?? null,
  }));
}
