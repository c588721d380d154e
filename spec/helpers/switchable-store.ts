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

  override async delete(key: string): Promise<boolean> {
    await this.outage();
    return super.delete(key);
  }

  override async readSession(key: string): ReturnType<MemoryStore['readSession']> {
    await this.outage();
    return super.readSession(key);
  }

  /** Down, it never applies at once: the save goes the asynchronous way, and fails or hangs there. */
  override applySessionNow(
    ...args: Parameters<MemoryStore['applySessionNow']>
  ): 'saved' | 'gone' | undefined {
    return this.mode === 'up' ? super.applySessionNow(...args) : undefined;
  }

  override async applySession(
    ...args: Parameters<MemoryStore['applySession']>
  ): ReturnType<MemoryStore['applySession']> {
    await this.outage();
    return super.applySession(...args);
  }
}
