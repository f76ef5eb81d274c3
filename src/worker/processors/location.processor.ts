import { num, obj, str } from '../../meta';
import type { Processor } from './processor';

/** `location`: coordinates, plus name, address and URL when the customer picked a place. */
export const locationProcessor: Processor = ({ message }) => {
  const location = obj(message.location) ?? {};
  return {
    latitude: num(location.latitude) ?? null,
    longitude: num(location.longitude) ?? null,
    name: str(location.name) ?? null,
    address: str(location.address) ?? null,
    url: str(location.url) ?? null,
  };
};
