import React from 'react';
import { Text } from 'ink';
import { HomeScreen } from './HomeScreen.js';
import type { Route } from './routes.js';

/** The screen of a route. */
export function Screen({ route }: { route: Route }): React.JSX.Element {
  switch (route.name) {
    case 'home':
      return <HomeScreen />;
    default:
      return <Text>{route.name}: not built yet</Text>;
  }
}
