/** What an event's wait for its turn came to. */
export interface Turn {
  /** How long it waited for earlier events of its conversation (0 when none was pending). */
  heldMs: number;
  /**
   * Event ids of the earlier ones it is published ahead of: still being built when the hold ran
   * out, or failed while it waited (their retry follows).
   */
  overtook: string[];
}

/** One event's place in its conversation's order. */
export interface OrderSlot {
  /**
   * Resolves once every event reserved before it in the conversation has passed (published,
   * failed, or overtaken by another), or after the hold: the ones still pending are then overtaken,
   * so the events after this one no longer wait for them either.
   */
  turn(): Promise<Turn>;
  /** This event was published (or is not this hand-off's to publish): later ones stop waiting for it. */
  published(): void;
  /** This event failed (it will be retried): later ones stop waiting for it. No-op once published. */
  failed(): void;
}

class Slot implements OrderSlot {
  private state: 'pending' | 'overtaken' | 'published' | 'failed' = 'pending';
  private resolvePassed!: () => void;
  /** Every slot up to this one has passed. */
  isClear = false;
  readonly clear: Promise<void>;

  constructor(
    readonly eventId: string,
    /** The slot reserved just before, until everything up to it has passed (then dropped, for the GC). */
    private previous: Slot | undefined,
    private readonly holdMs: number,
    onClear: (slot: Slot) => void,
  ) {
    const passed = new Promise<void>((resolve) => (this.resolvePassed = resolve));
    this.clear = (previous && !previous.isClear ? Promise.all([previous.clear, passed]) : passed).then(() => {
      this.isClear = true;
      this.previous = undefined;
      onClear(this);
    });
  }

  async turn(): Promise<Turn> {
    const waiting: Slot[] = [];
    for (let slot = this.previous; slot && !slot.isClear; slot = slot.previous) if (slot.state === 'pending') waiting.push(slot);
    if (waiting.length === 0) return { heldMs: 0, overtook: [] };
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.previous!.clear, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.holdMs)))]);
    clearTimeout(timer);
    for (const slot of waiting) slot.overtake();
    const overtaken = waiting.filter((slot) => slot.state !== 'published').reverse();
    return { heldMs: performance.now() - started, overtook: overtaken.map((slot) => slot.eventId) };
  }

  published(): void {
    this.state = 'published';
    this.resolvePassed();
  }

  failed(): void {
    if (this.state === 'published') return;
    this.state = 'failed';
    this.resolvePassed();
  }

  /** Still pending after a hold: the later events stop waiting for it. */
  private overtake(): void {
    if (this.state !== 'pending') return;
    this.state = 'overtaken';
    this.resolvePassed();
  }
}
/**
 * The order of each conversation's events in this worker: an event is published only after the
 * ones reserved before it, or once it has waited `holdMs` for them. Events are built at once
 * (a photo's download and the text after it run side by side); only their publishes wait.
 * Different conversations never wait for each other. Places are taken synchronously, so they
 * follow the order of the calls: the worker reserves a hand-off's events as it starts it, and
 * hand-offs of one shard start in the order the broker delivered them.
 */
export class ConversationOrder {
  /** Per conversation with events pending, its last reserved slot (each slot knows the one before). */
  private readonly last = new Map<string, Slot>();

  constructor(private readonly holdMs: number) {}

  reserve(conversation: string, eventId: string): OrderSlot {
    const slot = new Slot(eventId, this.last.get(conversation), this.holdMs, (cleared) => {
      if (this.last.get(conversation) === cleared) this.last.delete(conversation);
    });
    this.last.set(conversation, slot);
    return slot;
  }

  /** Conversations with events pending here. */
  get conversations(): number {
    return this.last.size;
  }
}
