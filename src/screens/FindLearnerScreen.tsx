import { useState } from 'react';
import { Box, Text } from 'ink';
import { LineInput } from './components/LineInput.js';
import type { LearnerMatch } from '../domain/learners/find-learners.js';
import { serviceName } from '../domain/edx/providers.js';
import { useBodySize } from './body-size.js';
import { useNavigation, useScreenFocus } from './console-context.js';
import { ErrorLine } from './components/ErrorLine.js';
import { Table, type Column } from './components/Table.js';
import { theme } from './theme.js';
import { useLearnerSearch } from './use-learners.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// Screen 4a, find a learner: incremental search by MicroMasters username, email or edX username.

const MATCHED = { username: 'username', email: 'email', 'edx-username': 'edX username' } as const;

const columns: Array<Column<LearnerMatch>> = [
  { header: 'username', cell: (l) => l.username, minWidth: 10, grow: 2 },
  { header: 'email', cell: (l) => l.email, minWidth: 10, grow: 2 },
  {
    header: 'edX / MITx Online usernames',
    cell: (l) => l.accounts.map((a) => `${a.uid} (${serviceName(a.provider)})`).join(', ') || 'none linked',
    minWidth: 10,
    grow: 2,
  },
  { header: 'matched on', cell: (l) => MATCHED[l.matchedOn], width: 12, color: () => theme.dim },
];

export function FindLearnerScreen({ initialText = '' }: { initialText?: string }) {
  const nav = useNavigation();
  const { width, height } = useBodySize();
  const [text, setText] = useState(initialText);
  const focused = useScreenFocus();
  const found = useLearnerSearch(text);
  const rows = found.data ?? [];
  const cursor = useSelection(rows.length);
  const current = rows[cursor.selected];

  useScreenKeys(
    {
      up: cursor.up,
      down: cursor.down,
      open: current ? () => nav.push({ name: 'learner', username: current.username }) : undefined,
      back: () => nav.back(),
    },
    { textEntry: true, labels: { open: 'open learner', up: 'move' } },
  );

  return (
    <Box flexDirection="column">
      <Text>Find a learner by MicroMasters username, email or edX / MITx Online username (the start of any of them):</Text>
      <Box>
        <Text color={theme.accent}>{'› '}</Text>
        <LineInput placeholder="type a name…" defaultValue={initialText} onChange={setText} isDisabled={!focused} />
      </Box>
      {found.error ? <ErrorLine error={found.error} prefix="the search failed" /> : null}
      {text.trim() === '' ? (
        <Text color={theme.dim}>↑/↓ move through the matches · Enter opens the learner · Esc goes back</Text>
      ) : (
        <Table
          rows={rows}
          columns={columns}
          selected={cursor.selected}
          width={width}
          height={height - 4}
          rowKey={(l) => String(l.id)}
          empty={found.loading ? 'searching…' : `nobody's username, email or edX username starts with "${text.trim()}"`}
        />
      )}
    </Box>
  );
}
