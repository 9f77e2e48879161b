// The ordered shutdown of a long-lived face (the console): stop the jobs this process started
// (each finishes its learners in flight and releases its lock), then Redis, then the database.
// Whatever ends the process — q, Ctrl-C, SIGTERM, a crash — goes through here once.

export interface TrackedJob {
  /** What the job is, in the runbook's words: "freeze of course-v1:…". */
  label: string;
  /** Asks the job to stop; it stays resumable. */
  stop(): void;
  /** Settles when the job has stopped (its lock released). */
  done: Promise<unknown>;
}

export interface Closable {
  close(): Promise<void>;
}

export class Lifecycle {
  private readonly jobs = new Set<TrackedJob>();
  private closing: Promise<void> | null = null;
  private services: Closable | null = null;

  /** The services to close last; set once they are open. */
  attach(services: Closable): void {
    this.services = services;
  }

  /** Registers a running job until it settles. */
  track(job: TrackedJob): void {
    this.jobs.add(job);
    const forget = () => {
      this.jobs.delete(job);
    };
    job.done.then(forget, forget);
  }

  running(): TrackedJob[] {
    return [...this.jobs];
  }

  /** Stops every job and waits for them (at most `waitMs`). */
  async stopJobs(waitMs = 60_000): Promise<void> {
    const jobs = this.running();
    for (const job of jobs) job.stop();
    if (jobs.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(jobs.map((j) => j.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** stop jobs → (their locks are released as they end) → close Redis and the database. Idempotent. */
  shutdown(options: { waitMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      await this.stopJobs(options.waitMs);
      await this.services?.close().catch(() => {});
    })();
    return this.closing;
  }
}
