import React from 'react';
import { Box, Text } from 'ink';
import { ErrorLine } from './ErrorLine.js';
import { theme } from '../theme.js';
import { useNavigation } from '../console-context.js';
import { useScreenKeys } from '../use-screen-keys.js';

function BackOnEsc(): null {
  const nav = useNavigation();
  useScreenKeys({ back: () => nav.back() });
  return null;
}

interface State {
  error: unknown;
}

/** A screen that throws while drawing shows the error in its place; the console keeps running. */
export class ScreenBoundary extends React.Component<{ children: React.ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error };
  }

  render(): React.ReactNode {
    if (this.state.error) {
      return (
        <Box flexDirection="column">
          <ErrorLine error={this.state.error} prefix="this screen failed" />
          <Text color={theme.dim}>Esc goes back; the rest of the console still works.</Text>
          <BackOnEsc />
        </Box>
      );
    }
    return this.props.children;
  }
}
