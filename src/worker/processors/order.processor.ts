import { num, obj, objects, str } from '../../meta';
import type { Processor } from './processor';

/** `order`: a cart sent from a catalog. */
export const orderProcessor: Processor = ({ message }) => {
  const order = obj(message.order) ?? {};
  return {
    catalogId: str(order.catalog_id) ?? null,
    text: str(order.text) ?? null,
    productItems: objects(order.product_items).map((item) => ({
      productRetailerId: str(item.product_retailer_id) ?? null,
      quantity: num(item.quantity) ?? null,
      itemPrice: num(item.item_price) ?? null,
      currency: str(item.currency) ?? null,
    })),
  };
};
