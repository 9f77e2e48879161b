import type { Services } from '../app/services.js';
import { testFaultsFromEnv } from '../app/test-faults.js';
import type { DomainContext } from '../domain/context.js';

export function contextOf(services: Services, overrides: Partial<DomainContext> = {}): DomainContext {
  return {
    db: services.db,
    redis: services.redis,
    edx: services.edx,
    operator: services.operator,
    testFaults: testFaultsFromEnv(),
    ...overrides,
  };
}
