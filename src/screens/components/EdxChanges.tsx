import { Box, Text } from 'ink';
import type { CacheTable } from '../../domain/edx/cache-store.js';
import type { CachedValues, EdxDataChange, LearnerRefreshResult } from '../../domain/edx/learner-refresh.js';
import { serviceName } from '../../domain/edx/providers.js';
import { marks, theme } from '../theme.js';

// What a refresh of a learner's edX data changed in the cache, row by row (the words of
// `gradeops refresh`): added and removed rows with their values, changed rows old → new.

const TABLE: Record<CacheTable, string> = {
  dashboard_cachedenrollment: 'enrollment',
  dashboard_cachedcertificate: 'certificate',
  dashboard_cachedcurrentgrade: 'current grade',
};

const FIELD: Record<string, string> = { isActive: 'active', certificateType: 'type' };

const show = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : JSON.stringify(value));
const field = (name: string) => FIELD[name] ?? name;

function values(v: CachedValues): string {
  return Object.entries(v)
    .map(([name, value]) => `${field(name)} ${show(value)}`)
    .join(', ');
}

function describe(c: EdxDataChange): string {
  if (c.change === 'added') return values(c.after!);
  if (c.change === 'removed') return `was ${values(c.before!)}`;
  return Object.keys(c.after!)
    .filter((name) => JSON.stringify(c.before![name]) !== JSON.stringify(c.after![name]))
    .map((name) => `${field(name)} ${show(c.before![name])} → ${show(c.after![name])}`)
    .join(', ');
}

export function EdxChanges({ result, username }: { result: LearnerRefreshResult; username: string }) {
  const where = result.backends.map(serviceName).join(' and ');
  const token =
    result.tokensRefreshed.length > 0 ? ` (${result.tokensRefreshed.map(serviceName).join(' and ')} token refreshed first)` : '';
  return (
    <Box flexDirection="column">
      <Text bold color={theme.ok} wrap="truncate-end">
        {marks.ok} refreshed {username}'s {where} data{token}:{' '}
        {result.changes.length === 0 ? 'nothing changed' : `${result.changes.length} change(s)`}
      </Text>
      {result.changes.map((c) => (
        <Text key={`${c.table}-${c.courseKey}`} wrap="truncate-end">
          {'  '}
          <Text color={c.change === 'removed' ? theme.error : c.change === 'added' ? theme.ok : theme.warn}>{c.change.padEnd(7)}</Text>{' '}
          {TABLE[c.table].padEnd(13)} {c.courseKey} <Text color={theme.dim}>{describe(c)}</Text>
        </Text>
      ))}
      {result.examProfile?.outcome === 'created' ? (
        <Text wrap="truncate-end">
          {'  '}
          {marks.ok} exam profile created: {result.examProfile.courseKey} has an exam run still open for eligibility
        </Text>
      ) : null}
    </Box>
  );
}
