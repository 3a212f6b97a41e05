import { migrate } from '../../src/registry/migrate.js';
import { Registry } from '../../src/registry/registry.js';
import type { DbSuite } from '../support/db.js';
import { newPatientId } from './factory.js';

/**
 * The usual registry test setup: the suite's database migrated once, a Registry on it, and a newly
 * registered patient before each test, handed to `use` (the suite keeps them in its own variables).
 */
export function withRegistryAndPatient(suite: DbSuite, use: (registry: Registry, patientId: string) => void): void {
  let registry: Registry;
  before(async () => {
    await migrate(suite.db);
    registry = new Registry(suite.db);
  });
  beforeEach(async () => {
    const patientId = newPatientId();
    await registry.registerPatient(patientId);
    use(registry, patientId);
  });
}
