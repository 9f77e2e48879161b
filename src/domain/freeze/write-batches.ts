// The freeze job's database stage (issue 10 §2): learners handed over by the edX slots are written
// in batches, a few statements per batch instead of several per learner, because on PostgreSQL
// each statement is a socket write and a wake-up of the server, and those were most of the job's
// CPU. Batches form by themselves: the first learner is written at once, and those arriving while
// a batch is being written make up the next one, so a quick database gets small batches and a
// slow one big batches, never a learner left waiting for a batch to fill.

export class WriteBatches<T> {
  private readonly pending: T[] = [];
  private running = 0;
  private readonly waitingForRoom: Array<() => void> = [];
  private readonly waitingForIdle: Array<() => void> = [];

  /** `write` must not throw: it settles every learner of its batch itself. */
  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly parallel: number,
    /** Learners waiting for a batch at most; the job sets its concurrency, as "in flight" was before batches. */
    private readonly maxPending: number,
  ) {}

  /** Queues a learner; waits only while the backlog is full, so a slow database slows the edX slots down. */
  async add(item: T): Promise<void> {
    this.pending.push(item);
    this.pump();
    while (this.pending.length >= this.maxPending) await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
  }

  /** Resolves once every queued learner is written. */
  onIdle(): Promise<void> {
    if (this.running === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waitingForIdle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.parallel && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.running += 1;
      void this.write(batch)
        .catch(() => {
          /* write settles its learners itself; nothing is left to do here */
        })
        .finally(() => {
          this.running -= 1;
          for (const resolve of this.waitingForRoom.splice(0)) resolve();
          this.pump();
          if (this.running === 0 && this.pending.length === 0) for (const resolve of this.waitingForIdle.splice(0)) resolve();
        });
    }
  }
}
