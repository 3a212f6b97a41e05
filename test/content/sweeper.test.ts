import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ContentStore, hashBytes } from '../../src/content/store.js';
import { sweepOrphans } from '../../src/content/sweeper.js';

const HOUR = 3_600_000;

async function age(store: ContentStore, key: string, ms: number): Promise<void> {
  const when = new Date(Date.now() - ms);
  await fs.utimes(store.pathOf(key), when, when);
}

/** Writes a blob file directly (no fsync) so that a test can lay out many blobs quickly. */
async function plantOldBlob(store: ContentStore, key: string): Promise<void> {
  await fs.mkdir(path.dirname(store.pathOf(key)), { recursive: true });
  await fs.writeFile(store.pathOf(key), key);
  await age(store, key, 2 * HOUR);
}

describe('orphan sweeper', () => {
  let dir: string;
  let store: ContentStore;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'content-sweep-'));
    store = await ContentStore.open(dir);
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('removes old unreferenced blobs and keeps referenced ones and those still within the grace period', async () => {
    const orphan = (await store.put(Buffer.from('orphan'))).key;
    const registered = (await store.put(Buffer.from('registered'))).key;
    const inFlight = (await store.put(Buffer.from('in flight'))).key;
    await age(store, orphan, 2 * HOUR);
    await age(store, registered, 2 * HOUR);

    const asked: string[][] = [];
    const result = await sweepOrphans(
      store,
      async (keys) => {
        asked.push(keys);
        return new Set(keys.filter((k) => k === registered));
      },
      HOUR,
    );

    expect(result).to.deep.equal({ removed: 1, kept: 1, tmpRemoved: 0 });
    expect(await store.exists(orphan)).to.equal(false);
    expect(await store.exists(registered)).to.equal(true);
    expect(await store.exists(inFlight)).to.equal(true);
    expect(asked.flat()).to.have.members([orphan, registered]);
  });

  it('asks the registry about at most 500 keys at a time', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => hashBytes(Buffer.from(`blob ${i}`)).sha256);
    await Promise.all(keys.map((k) => plantOldBlob(store, k)));

    const sizes: number[] = [];
    const result = await sweepOrphans(
      store,
      async (batch) => {
        sizes.push(batch.length);
        return new Set(batch);
      },
      HOUR,
    );

    expect(sizes).to.deep.equal([500, 500, 1]);
    expect(result.kept).to.equal(1001);
    expect(result.removed).to.equal(0);
  });

  it('keeps an old blob whose bytes are stored again while the sweep runs', async () => {
    const bytes = Buffer.from('resubmitted document');
    const key = (await store.put(bytes)).key;
    await age(store, key, 2 * HOUR);

    const result = await sweepOrphans(
      store,
      async () => {
        expect((await store.put(bytes)).created).to.equal(false);
        return new Set();
      },
      HOUR,
    );

    expect(result.removed).to.equal(0);
    expect(result.kept).to.equal(1);
    expect((await store.get(key)).equals(bytes)).to.equal(true);
  });

  it('removes temp files left by interrupted writes', async () => {
    await fs.writeFile(path.join(dir, 'tmp', 'put-crashed'), 'partial');
    await new Promise((r) => setTimeout(r, 20));
    const result = await sweepOrphans(store, async () => new Set(), 0);
    expect(result.tmpRemoved).to.equal(1);
    expect(await fs.readdir(path.join(dir, 'tmp'))).to.deep.equal([]);
  });
});
