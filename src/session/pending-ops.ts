import type { SessionOp } from '../store/contract';

/** A key's increments or pushes not stored yet. */
type PendingOp =
  | { op: 'increment'; key: string; amounts: number[] }
  /** `base`: the JSON of the array the pushes were made onto, as this request saw it stored. */
  | { op: 'push'; key: string; base: string; items: string[] };

/** The pending op of each key as a save planned it, and how many of its amounts or items that save carries. */
export type PlannedOps = ReadonlyArray<{ pending: PendingOp; count: number }>;

/** An array's JSON with items (each as its JSON) appended, the way the stores append them. */
export function appendedJson(base: string, items: readonly string[]): string {
  if (items.length === 0) return base;
  return base === '[]' ? `[${items.join(',')}]` : `${base.slice(0, -1)},${items.join(',')}]`;
}

/**
 * This request's `increment` and `push` calls, by key, until a save stores them. The store applies them to
 * the value it holds, so that concurrent requests' calls all count; the request's own value was updated at
 * once. A save carries what was pending when it was planned; calls made meanwhile wait for the next save.
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

  /** The ops a save carries now, and what it takes of each pending op (for `stored`). */
  plan(): { ops: SessionOp[]; planned: PlannedOps } {
    const ops: SessionOp[] = [];
    const planned: Array<{ pending: PendingOp; count: number }> = [];
    for (const pending of this.byKey.values()) {
      if (pending.op === 'increment') {
        let by = 0;
        for (const amount of pending.amounts) by += amount;
        ops.push({ op: 'increment', key: pending.key, by });
        planned.push({ pending, count: pending.amounts.length });
      } else {
        ops.push({ op: 'push', key: pending.key, items: [...pending.items] });
        planned.push({ pending, count: pending.items.length });
      }
    }
    return { ops, planned };
  }

  /**
   * A save stored what it carried: it leaves the pending ops (the keys whose ops are all stored are
   * returned, with the JSON their pushes made; undefined for increments).
   */
  stored(planned: PlannedOps): Map<string, string | undefined> {
    const settled = new Map<string, string | undefined>();
    for (const { pending, count } of planned) {
      if (this.byKey.get(pending.key) !== pending) continue;
      if (pending.op === 'increment') {
        pending.amounts.splice(0, count);
        if (pending.amounts.length === 0) settled.set(pending.key, undefined);
      } else {
        pending.base = appendedJson(pending.base, pending.items.splice(0, count));
        if (pending.items.length === 0) settled.set(pending.key, pending.base);
      }
      if (settled.has(pending.key)) this.byKey.delete(pending.key);
    }
    return settled;
  }
}
