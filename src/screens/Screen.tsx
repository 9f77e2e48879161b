import React from 'react';
import { Text } from 'ink';
import { HomeScreen } from './HomeScreen.js';
import { RunScreen } from './RunScreen.js';
import type { Route } from './routes.js';

/** The screen of a route. */
export function Screen({ route }: { route: Route }): React.JSX.Element {
  switch (route.name) {
    case 'home':
      return <HomeScreen />;
    case 'run':
      return <RunScreen courseKey={route.courseKey} />;
    default:
      return <Text>{route.name}: not built yet</Text>;
  }
}
