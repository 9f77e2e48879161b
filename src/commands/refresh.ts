import type { Command } from 'commander';
import type { CacheTable } from '../domain/edx/cache-store.js';
import { serviceName } from '../domain/edx/providers.js';
import { refreshLearnerEdxData, type CachedValues, type EdxDataChange } from '../domain/edx/learner-refresh.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';

const LABEL: Record<CacheTable, string> = {
  dashboard_cachedenrollment: 'enrollment',
  dashboard_cachedcertificate: 'certificate',
  dashboard_cachedcurrentgrade: 'current grade',
};

const FIELD: Record<string, string> = {
  mode: 'mode',
  isActive: 'active',
  certificateType: 'type',
  status: 'status',
  percent: 'percent',
  passed: 'passed',
};

// Strings as edX sent them, except an empty one, which would vanish from the table.
const show = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : JSON.stringify(value));

function values(v: CachedValues): string {
  return Object.entries(v)
    .map(([field, value]) => `${FIELD[field] ?? field} ${show(value)}`)
    .join(', ');
}

/** added and removed rows show their values; changed rows show only what changed, old → new. */
export function describeChange(c: EdxDataChange): string {
  if (c.change === 'added') return values(c.after!);
  if (c.change === 'removed') return `was ${values(c.before!)}`;
  return Object.keys(c.after!)
    .filter((field) => JSON.stringify(c.before![field]) !== JSON.stringify(c.after![field]))
    .map((field) => `${FIELD[field] ?? field} ${show(c.before![field])} → ${show(c.after![field])}`)
    .join(', ');
}

export function registerRefresh(program: Command): void {
  program
    .command('refresh')
    .description(
      "refresh one learner's cached edX data (enrollments, certificates, current grades) for the run's backend, or every linked backend; prints what changed",
    )
    .argument('<username>', 'MicroMasters username')
    .argument('[course-key]', "edX course key: refresh only that run's backend")
    .option('--json', 'print JSON for scripts')
    .action((username: string, courseKey: string | undefined, options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const r = await refreshLearnerEdxData(contextOf(services), username, courseKey);
        if (out.json) return out.result(r);
        const where = r.backends.map(serviceName).join(' and ');
        const token = r.tokensRefreshed.length > 0 ? ` (${r.tokensRefreshed.map(serviceName).join(' and ')} token refreshed first)` : '';
        if (r.changes.length === 0) {
          out.line(`refreshed ${username}'s ${where} data${token}: nothing changed`);
        } else {
          out.line(`refreshed ${username}'s ${where} data${token}: ${r.changes.length} change(s)`);
          out.line(
            renderTable(
              ['cached', 'course key', 'change', 'values'],
              r.changes.map((c) => [LABEL[c.table], c.courseKey, c.change, describeChange(c)]),
            ),
          );
        }
        const exam = r.examProfile;
        if (exam?.outcome === 'created') out.line(`exam profile created: ${exam.courseKey} has an exam run still open for eligibility`);
        if (exam?.outcome === 'no-profile') out.line(`exam profile not created: ${exam.note}`);
        if (courseKey) out.line(`next: gradeops diagnose ${username} ${courseKey}`);
      }),
    );
}
