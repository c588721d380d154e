import { MemoryStore } from '../../src';

/** A memory store that can be made to fail or hang, the way a store that is down does. */
export class SwitchableStore extends MemoryStore {
  mode: 'up' | 'failing' | 'hanging' = 'up';

  private async outage(): Promise<void> {
    if (this.mode === 'failing') throw new Error('connection refused');
    if (this.mode === 'hanging') await new Promise(() => undefined);
  }

  override async get(key: string): Promise<string | undefined> {
    await this.outage();
    return super.get(key);
  }

  override async set(key: string, value: unknown, expires?: number): Promise<boolean> {
    await this.outage();
    return super.set(key, value, expires);
  }
}
