export interface SweeperOptions {
  intervalMs: number;
  /** Deletes up to `batchSize` expired rows; resolves to how many it deleted. */
  sweepBatch: (batchSize: number) => Promise<number>;
  batchSize?: number;
  /** A sweep stops starting batches after this long; the rest waits for the next interval. */
  budgetMs?: number;
  onError: (error: unknown) => void;
}

/**
 * Deletes expired rows on an interval, a batch at a time, each sweep bounded in time. The timer does not keep
 * the process alive; a sweep never overlaps the previous one. Several processes sweeping one table at once
 * is harmless as long as `sweepBatch` skips rows another sweeper holds.
 */
export class BatchSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private stopped = false;
  private readonly batchSize: number;
  private readonly budgetMs: number;

  constructor(private readonly options: SweeperOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.budgetMs = options.budgetMs ?? Math.min(options.intervalMs / 2, 10_000);
  }

  /** Starts the interval (once). */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.sweep().catch(this.options.onError), this.options.intervalMs);
    this.timer.unref();
  }

  /** One sweep: batches until one comes back short or the time budget is spent; resolves to the rows deleted. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepBatches().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepBatches(): Promise<number> {
    const stopAt = Date.now() + this.budgetMs;
    let deleted = 0;
    for (;;) {
      const count = await this.options.sweepBatch(this.batchSize);
      deleted += count;
      if (count < this.batchSize || Date.now() >= stopAt || this.stopped) return deleted;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
