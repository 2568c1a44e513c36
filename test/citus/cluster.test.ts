import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';

describeCitus('the Citus cluster under test', () => {
  let citus: CitusSchema;
  beforeAll(async () => {
    citus = await createCitusSchema('cluster');
  });
  afterAll(() => citus?.drop());

  it('is a coordinator with at least two active workers', async () => {
    const [coordinator] = await citus.query<{ is: boolean }>('select citus_is_coordinator() as is');
    expect(coordinator?.is).toBe(true);
    const workers = await citus.query('select * from citus_get_active_worker_nodes()');
    expect(workers.length).toBeGreaterThanOrEqual(2);
  });

  it("creates a test file's tables in its own schema", async () => {
    await citus.query('create table probe (id int)');
    const [row] = await citus.query<{ schema: string }>(
      "select table_schema as schema from information_schema.tables where table_name = 'probe' and table_schema = current_schema()",
    );
    expect(row?.schema).toBe(citus.schema);
  });
});
