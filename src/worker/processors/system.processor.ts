import { obj, str } from '../../meta';
import type { Processor } from './processor';

/**
 * `system`: the customer changed number (`user_changed_number`), business-scoped user id
 * (`user_changed_user_id`: new ids in `userId` / `parentUserId`) or identity (`customer_identity_changed`).
 */
export const systemProcessor: Processor = ({ message }) => {
  const system = obj(message.system) ?? {};
  return {
    systemType: str(system.type) ?? null,
    body: str(system.body) ?? null,
    waId: str(system.wa_id) ?? null,
    newWaId: str(system.new_wa_id) ?? null,
    userId: str(system.user_id) ?? null,
    parentUserId: str(system.parent_user_id) ?? null,
    customer: str(system.customer) ?? null,
    identity: obj(message.identity) ?? null,
  };
};
