import { z } from 'zod';

/** The value types the environment schema is made of, and the documentation each variable carries. */

/** 0 picks a free port (tests). */
export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const url = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
export const httpUrl = url(['http:', 'https:']).transform((v) => v.replace(/\/+$/, ''));
/** `host`, `*.domain` or `scheme://host[:port]`. */
export const MEDIA_HOST_ENTRY = /^(?:\*\.)?[a-z0-9.-]+$|^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/;
export const msList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'expected a comma-separated list of milliseconds, e.g. 5000,30000,300000')
  .transform((v) => v.split(',').map(Number));

export interface VariableDoc {
  /** One line for docs/configuration.md and .env.example. */
  description: string;
  /** Never printed in logs or errors. */
  secret?: boolean;
}

export function variable<T extends z.ZodType>(schema: T, doc: VariableDoc): T {
  variableDocs.set(schema, doc);
  return schema;
}
export const variableDocs = new Map<z.ZodType, VariableDoc>();
