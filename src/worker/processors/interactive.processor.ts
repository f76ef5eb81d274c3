import { obj, str, type JsonObject } from '../../meta';
import type { Content } from '../../contract';
import type { Processor } from './processor';

/**
 * `interactive`: the customer answered a button (`button_reply`), a list (`list_reply`), a flow
 * (`nfm_reply`, whose `response_json` is parsed), or anything Meta adds later (kept as `data`).
 */
export const interactiveProcessor: Processor = ({ message }) => {
  const interactive = obj(message.interactive) ?? {};
  const subtype = str(interactive.type) ?? 'unknown';
  const data = obj(interactive[subtype]) ?? {};
  switch (subtype) {
    case 'button_reply':
      return { subtype, reply: { id: str(data.id) ?? null, title: str(data.title) ?? null } };
    case 'list_reply':
      return { subtype, reply: { id: str(data.id) ?? null, title: str(data.title) ?? null, description: str(data.description) ?? null } };
    case 'nfm_reply':
      return { subtype, flow: flowReply(data) };
    default:
      return { subtype, data };
  }
};

function flowReply(data: JsonObject): Content {
  const text = str(data.response_json);
  let response: JsonObject | null = null;
  if (text !== undefined) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) response = parsed as JsonObject;
    } catch {
      // Kept as text below: a flow may answer with something that is not JSON.
    }
  }
  return { name: str(data.name) ?? null, body: str(data.body) ?? null, flowToken: str(response?.flow_token) ?? null, response, responseJson: text ?? null };
}
