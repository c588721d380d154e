import { MemoryStore } from '../../src';
import type { ApplyResult, SessionChange } from '../../src';

type ValueUpdate = Parameters<MemoryStore['updateValue']>[1];

/** A memory store that can be made to fail or hang, the way a store that is down does. */
export class SwitchableStore extends MemoryStore {
  override readonly name = 'SwitchableStore';
  mode: 'up' | 'failing' | 'hanging' = 'up';

  private async outage(): Promise<void> {
    if (this.mode === 'failing') throw new Error('connection refused');
    if (this.mode === 'hanging') await new Promise(() => undefined);
  }

  override async read(key: string): ReturnType<MemoryStore['read']> {
    await this.outage();
    return super.read(key);
  }

  /** Down, it never reads at once: the load goes the asynchronous way, and fails or hangs there. */
  override readNow(key: string): ReturnType<MemoryStore['readNow']> {
    if (this.mode !== 'up') throw new Error('not now');
    return super.readNow(key);
  }

  /** Down, it never applies at once: the save goes the asynchronous way, and fails or hangs there. */
  override applyNow(key: string, change: SessionChange, expiresAt: number): ApplyResult | undefined {
    return this.mode === 'up' ? super.applyNow(key, change, expiresAt) : undefined;
  }

  override async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    await this.outage();
    return super.apply(key, change, expiresAt);
  }

  override async remove(key: string): Promise<boolean> {
    await this.outage();
    return super.remove(key);
  }

  override async readValue(key: string): Promise<unknown> {
    await this.outage();
    return super.readValue(key);
  }

  override async updateValue(key: string, update: ValueUpdate): Promise<void> {
    await this.outage();
    return super.updateValue(key, update);
  }
}
