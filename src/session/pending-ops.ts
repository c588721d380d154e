import type { SessionOp } from '../store/contract';

/**
 * A key's increments or pushes not yet planned into a save. The entry stays, empty, while a save that carries
 * earlier ones is under way: the key is still updated by ops, and a later push goes on from `base`.
 */
type PendingOp =
  | { op: 'increment'; key: string; amounts: number[] }
  /** `base`: the JSON of the array as stored once the planned pushes are, which the next ones go onto. */
  | { op: 'push'; key: string; base: string; items: string[] };

/** The pending ops a save planned (each emptied then). */
export type PlannedOps = readonly PendingOp[];

/** An array's JSON with items (each as its JSON) appended, the way the stores append them. */
export function appendedJson(base: string, items: readonly string[]): string {
  if (items.length === 0) return base;
  return base === '[]' ? `[${items.join(',')}]` : `${base.slice(0, -1)},${items.join(',')}]`;
}

const isEmpty = (pending: PendingOp) =>
  (pending.op === 'increment' ? pending.amounts.length : pending.items.length) === 0;

/**
 * This request's `increment` and `push` calls, by key, until a save stores them. The store applies them to
 * the value it holds, so that concurrent requests' calls all count; the request's own value was updated at
 * once. Each call is planned into one save only: a save planned while another is under way (an un-awaited
 * `save()`, then the end) carries only the calls made since, so none is applied twice.
 */
export class PendingOps {
  private readonly byKey = new Map<string, PendingOp>();

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  increment(key: string, by: number): void {
    const pending = this.byKey.get(key);
    if (pending?.op === 'increment') pending.amounts.push(by);
    else this.byKey.set(key, { op: 'increment', key, amounts: [by] });
  }

  /** Pushes an item (as its JSON) onto `base`, the JSON of the array as stored, when it is the key's first push. */
  push(key: string, itemJson: string, base: string): void {
    const pending = this.byKey.get(key);
    if (pending?.op === 'push') pending.items.push(itemJson);
    else this.byKey.set(key, { op: 'push', key, base, items: [itemJson] });
  }

  /** The JSON a key's pushes should have made of its array; undefined for a key without pushes. */
  expectedJson(key: string): string | undefined {
    const pending = this.byKey.get(key);
    return pending?.op === 'push' ? appendedJson(pending.base, pending.items) : undefined;
  }

  /** Forgets a key's pending op: a plain write of the key wins over it. */
  drop(key: string): void {
    this.byKey.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** Takes the calls not planned yet into the ops of a save; undefined when there are none. */
  plan(): { ops: SessionOp[]; planned: PlannedOps } | undefined {
    const ops: SessionOp[] = [];
    const planned: PendingOp[] = [];
    for (const pending of this.byKey.values()) {
      if (isEmpty(pending)) continue;
      if (pending.op === 'increment') {
        let by = 0;
        for (const amount of pending.amounts) by += amount;
        ops.push({ op: 'increment', key: pending.key, by });
        pending.amounts = [];
      } else {
        ops.push({ op: 'push', key: pending.key, items: pending.items });
        pending.base = appendedJson(pending.base, pending.items);
        pending.items = [];
      }
      planned.push(pending);
    }
    return ops.length > 0 ? { ops, planned } : undefined;
  }

  /**
   * A save stored what it planned. Returns the keys left with no call pending (they leave), with the JSON
   * their pushes made (undefined for increments).
   */
  stored(planned: PlannedOps): Map<string, string | undefined> {
    const settled = new Map<string, string | undefined>();
    for (const pending of planned) {
      if (this.byKey.get(pending.key) !== pending || !isEmpty(pending)) continue;
      this.byKey.delete(pending.key);
      settled.set(pending.key, pending.op === 'push' ? pending.base : undefined);
    }
    return settled;
  }
}
