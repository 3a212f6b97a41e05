import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(8080);
    expect(c.databaseUrl).to.equal(undefined);
    expect(c.dataDir).to.equal(path.resolve('data'));
    expect(c.contentDir).to.equal(path.resolve('data/content'));
    expect(c.patientAuthority).to.equal('1.2.250.1.213.1.4.8');
    expect(c.maxRequestBytes).to.equal(64 * 1024 * 1024);
    expect(c.inProcessWorkers).to.equal(true);
    expect(c.databasePoolSize).to.equal(Math.max(2, 2 * os.availableParallelism()));
    expect(loadConfig({ DATABASE_POOL_SIZE: '4' }).databasePoolSize).to.equal(4);
  });

  it('gives the gateway processes two database connections per CPU together, at least two each, unless told', () => {
    const cpus = os.availableParallelism();
    const pg = { DATABASE_URL: 'postgres://x/y' };
    expect(loadConfig({ ...pg, GATEWAY_PROCESSES: '2' }).databasePoolSize).to.equal(Math.max(2, cpus));
    expect(loadConfig({ ...pg, GATEWAY_PROCESSES: 'auto' }).databasePoolSize).to.equal(2);
    expect(loadConfig({ ...pg, GATEWAY_PROCESSES: String(8 * cpus) }).databasePoolSize).to.equal(2);
    expect(loadConfig({ ...pg, GATEWAY_PROCESSES: '2', DATABASE_POOL_SIZE: 'auto' }).databasePoolSize).to.equal(Math.max(2, cpus));
    expect(loadConfig({ ...pg, GATEWAY_PROCESSES: '2', DATABASE_POOL_SIZE: '10' }).databasePoolSize).to.equal(10);
  });

  it('ties the queue prefix to the data dir with the embedded registry, and shares it with PostgreSQL', () => {
    const a = loadConfig({ DATA_DIR: '/srv/a' }).queuePrefix;
    const b = loadConfig({ DATA_DIR: '/srv/b' }).queuePrefix;
    expect(a).to.not.equal(b);
    expect(loadConfig({ DATA_DIR: '/srv/a', DATABASE_URL: 'postgres://x/y' }).queuePrefix).to.equal('xdsgw');
    expect(loadConfig({ QUEUE_PREFIX: 'mine' }).queuePrefix).to.equal('mine');
  });

  it('runs one gateway process unless told, and more only with PostgreSQL', () => {
    expect(loadConfig({}).gatewayProcesses).to.equal(1);
    expect(loadConfig({ GATEWAY_PROCESSES: '3', DATABASE_URL: 'postgres://x/y' }).gatewayProcesses).to.equal(3);
    expect(loadConfig({ GATEWAY_PROCESSES: 'auto', DATABASE_URL: 'postgres://x/y' }).gatewayProcesses).to.equal(os.availableParallelism());
    expect(() => loadConfig({ GATEWAY_PROCESSES: '2' })).to.throw(ConfigError, /GATEWAY_PROCESSES above 1 needs DATABASE_URL/);
    expect(() => loadConfig({ GATEWAY_PROCESSES: '0', DATABASE_URL: 'postgres://x/y' })).to.throw(ConfigError, /GATEWAY_PROCESSES must be an integer >= 1/);
  });

  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['MAX_REQUEST_BYTES', '-1'],
    ['IN_PROCESS_WORKERS', 'maybe'],
    ['REPOSITORY_UNIQUE_ID', '1.2.x'],
    ['XDS_PATIENT_AUTHORITY', 'INS'],
    ['HOME_COMMUNITY_ID', '1.2.3'],
    ['DATABASE_SCHEMA', 'Robert"); drop'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', 'lots'],
  ] as const) {
    it(`refuses ${name}=${value} with a message naming ${name}`, () => {
      expect(() => loadConfig({ [name]: value })).to.throw(ConfigError, name);
    });
  }
});
