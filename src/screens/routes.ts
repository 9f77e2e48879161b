// The screens of the console and what each is about. A stack of these is the navigation: Enter
// pushes, Esc pops, `u` pushes the learner search from anywhere.

export type Route =
  | { name: 'home' }
  | { name: 'run'; courseKey: string }
  | { name: 'freeze'; courseKey: string }
  | { name: 'complete'; courseKey: string }
  | { name: 'revert'; courseKey: string }
  | { name: 'find-learner' }
  | { name: 'learner'; username: string }
  | { name: 'diagnosis'; username: string; courseKey: string }
  | { name: 'resync'; username: string; courseKey: string };

/** The breadcrumb word of a screen. */
export function routeTitle(route: Route): string {
  switch (route.name) {
    case 'home':
      return 'Course runs';
    case 'run':
      return route.courseKey;
    case 'freeze':
      return `Freeze ${route.courseKey}`;
    case 'complete':
      return `Force-complete ${route.courseKey}`;
    case 'revert':
      return `Revert ${route.courseKey}`;
    case 'find-learner':
      return 'Find a learner';
    case 'learner':
      return route.username;
    case 'diagnosis':
      return `${route.username} in ${route.courseKey}`;
    case 'resync':
      return `Resync ${route.username} in ${route.courseKey}`;
  }
}
