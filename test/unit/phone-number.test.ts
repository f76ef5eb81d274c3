import { toE164 } from '../../src/worker/normalize/phone-number';

describe('phone number of a wa_id', () => {
  it('when a wa_id is a possible number, then it is E.164 with its country, with or without a leading +', () => {
    expect(toE164('16505551234')).toEqual({ phone: '+16505551234', country: 'US' });
    expect(toE164('+442071838750')).toEqual({ phone: '+442071838750', country: 'GB' });
  });

  it('when a wa_id is no possible number (user id, placeholder, too short), then both are null', () => {
    for (const waId of ['US.13491208655302741918', 'PHONE_NUMBER', '123', '', null, undefined, '999999999999']) {
      expect(toE164(waId)).toEqual({ phone: null, country: null });
    }
  });

  it('when the same wa_id comes again, then the earlier answer is reused, and the oldest of 10,000 answers is dropped first', () => {
    const first = toE164('5511987654321');
    expect(toE164('5511987654321')).toBe(first);
    // 10,000 numbers not seen before push out every earlier answer.
    for (let i = 0; i < 10_000; i += 1) toE164(`1212555${String(i).padStart(4, '0')}`);
    const again = toE164('5511987654321');
    expect(again).not.toBe(first);
    expect(again).toEqual({ phone: '+5511987654321', country: 'BR' });
    // An answer cannot be changed by whoever received it.
    expect(Object.isFrozen(again)).toBe(true);
  });
});
