import type { Lifecycle } from '../app/lifecycle.js';
import type { DomainContext } from '../domain/context.js';
import { FreezeEmitter, type FreezeEvents } from '../domain/freeze/freeze-events.js';
import { runFreezeJob, type FreezeJobSummary } from '../domain/freeze/freeze-job.js';
import type { FreezeProgress } from '../domain/freeze/freeze-progress.js';

// The freeze jobs started in this console's process (issue #7: in embedded mode the job runs in
// the TUI's process). The store outlives the screens: leaving the wizard does not stop the job,
// and coming back shows it where it is. Screens read it through useFreezeJob.

export type FreezeFailureEvent = FreezeEvents['freeze:user-failed'][0];

export interface FreezeJobState {
  courseKey: string;
  retryFailed: boolean;
  phase: 'starting' | 'running' | 'stopping' | 'finished' | 'failed';
  started: FreezeEvents['freeze:started'][0] | null;
  progress: FreezeProgress | null;
  /** Learners who failed in this job, in the order they failed. */
  failures: FreezeFailureEvent[];
  /** The first warnings (side effects that failed, a MicroMasters task group), then only counted. */
  warnings: string[];
  warningCount: number;
  summary: FreezeJobSummary | null;
  error: unknown;
  startedAt: number;
}

const MAX_WARNINGS_KEPT = 10;
const NOTIFY_EVERY_MS = 100;

export class FreezeJobs {
  private readonly jobs = new Map<string, FreezeJobState>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly listeners = new Set<() => void>();
  private pending: NodeJS.Timeout | null = null;
  private version = 0;

  constructor(
    private readonly ctx: DomainContext,
    private readonly lifecycle: Lifecycle,
    private readonly options: { concurrency: number; publishEveryMs?: number },
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Changes with every update (for useSyncExternalStore). */
  getVersion = (): number => this.version;

  get(courseKey: string): FreezeJobState | undefined {
    return this.jobs.get(courseKey);
  }

  /** Jobs that have not ended. */
  active(): FreezeJobState[] {
    return [...this.jobs.values()].filter((j) => j.phase === 'starting' || j.phase === 'running' || j.phase === 'stopping');
  }

  isActive(courseKey: string): boolean {
    const job = this.jobs.get(courseKey);
    return job !== undefined && (job.phase === 'starting' || job.phase === 'running' || job.phase === 'stopping');
  }

  /** Starts a freeze of the run in this process; does nothing when one started here is still going. */
  start(courseKey: string, options: { retryFailed?: boolean } = {}): void {
    if (this.isActive(courseKey)) return;
    const controller = new AbortController();
    const events = new FreezeEmitter();
    this.controllers.set(courseKey, controller);
    this.set(courseKey, {
      courseKey,
      retryFailed: Boolean(options.retryFailed),
      phase: 'starting',
      started: null,
      progress: null,
      failures: [],
      warnings: [],
      warningCount: 0,
      summary: null,
      error: null,
      startedAt: Date.now(),
    });
    const update = (change: (job: FreezeJobState) => Partial<FreezeJobState>, now = false) => {
      const job = this.jobs.get(courseKey);
      if (!job) return;
      this.jobs.set(courseKey, { ...job, ...change(job) });
      this.changed(now);
    };
    events.on('freeze:started', (e) => update((j) => ({ started: e, phase: j.phase === 'stopping' ? 'stopping' : 'running' }), true));
    events.on('freeze:progress', (p) => update(() => ({ progress: p })));
    events.on('freeze:user-failed', (e) => update((j) => ({ failures: [...j.failures, e] })));
    events.on('freeze:warning', (w) =>
      update((j) => ({
        warningCount: j.warningCount + 1,
        warnings: j.warnings.length < MAX_WARNINGS_KEPT ? [...j.warnings, w.message] : j.warnings,
      })),
    );
    const done = runFreezeJob(this.ctx, courseKey, {
      concurrency: this.options.concurrency,
      retryFailed: options.retryFailed,
      signal: controller.signal,
      events,
      publishEveryMs: this.options.publishEveryMs ?? 250,
    }).then(
      (summary) => update(() => ({ phase: 'finished', summary }), true),
      (error: unknown) => update(() => ({ phase: 'failed', error }), true),
    );
    this.lifecycle.track({
      label: `freeze of ${courseKey}`,
      stop: () => this.stop(courseKey),
      done,
    });
  }

  /** Asks the job to stop: learners in flight finish, the run stays resumable. */
  stop(courseKey: string): void {
    const job = this.jobs.get(courseKey);
    if (!job || !this.isActive(courseKey)) return;
    this.controllers.get(courseKey)?.abort();
    this.jobs.set(courseKey, { ...job, phase: 'stopping' });
    this.changed(true);
  }

  /** Forgets an ended job (the wizard starts over). */
  clear(courseKey: string): void {
    if (this.isActive(courseKey)) return;
    this.jobs.delete(courseKey);
    this.changed(true);
  }

  private set(courseKey: string, state: FreezeJobState): void {
    this.jobs.set(courseKey, state);
    this.changed(true);
  }

  // Hundreds of learners a second must not mean hundreds of redraws: changes are batched.
  private changed(now: boolean): void {
    if (now) {
      if (this.pending) clearTimeout(this.pending);
      this.pending = null;
      this.flush();
      return;
    }
    this.pending ??= setTimeout(() => {
      this.pending = null;
      this.flush();
    }, NOTIFY_EVERY_MS);
  }

  private flush(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}
