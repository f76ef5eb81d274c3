import { z } from 'zod';

/** Tenant ids become object-key prefixes and metric labels: keep them short and plain. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Reserved: failed payloads live under `failed/` next to the tenants' own prefixes. */
const RESERVED_IDS = new Set(['failed']);

const idString = z.union([z.string().min(1), z.number().int().nonnegative().transform(String)]);

/** The tenant record of the contract (the tenants file holds an array; the Tenant Service returns one). */
export const tenantSchema = z
  .object({
    id: z
      .string()
      .regex(TENANT_ID_PATTERN, 'must be 1-64 letters, digits, "-" or "_", starting with a letter or digit')
      .refine((id) => !RESERVED_IDS.has(id), 'is reserved'),
    name: z.string().min(1),
    businessAccountId: idString,
    phoneNumberIds: z.array(idString).default([]),
    appSecret: z.string().min(1),
    /**
     * The app secret before a rotation, accepted beside `appSecret` until `previousAppSecretExpiresAt`
     * (required with it): Meta and the registry can then switch in either order without 401s.
     */
    previousAppSecret: z.string().min(1).optional(),
    previousAppSecretExpiresAt: z.iso.datetime({ offset: true }).optional(),
    verifyToken: z.string().min(1),
    accessToken: z.string().min(1),
    rateLimitPerMinute: z.number().int().positive().optional(),
  })
  .refine((tenant) => (tenant.previousAppSecret === undefined) === (tenant.previousAppSecretExpiresAt === undefined), {
    message: 'previousAppSecret and previousAppSecretExpiresAt go together',
    path: ['previousAppSecretExpiresAt'],
  });

export type Tenant = z.output<typeof tenantSchema>;

/** How a tenant is looked up: by WhatsApp Business Account id or by phone number id. */
export type TenantKey = { by: 'account'; id: string } | { by: 'phone'; id: string };

/** Where tenant records come from (the tenants file or the Tenant Service). */
export interface TenantSource {
  readonly name: string;
  /** null when no tenant owns the id; throws TransientError when the source cannot answer. */
  find(key: TenantKey): Promise<Tenant | null>;
  /** Every tenant, when the source can enumerate them (warming, verify-token lookup). */
  list(): Promise<Tenant[] | null>;
  /** Re-reads the source after an invalidation, when it holds tenants itself (the file). */
  reload?(): Tenant[];
}

/** Every key under which a tenant can be found. */
export function keysOf(tenant: Tenant): TenantKey[] {
  return [{ by: 'account', id: tenant.businessAccountId }, ...tenant.phoneNumberIds.map((id): TenantKey => ({ by: 'phone', id }))];
}
