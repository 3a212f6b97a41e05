import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  ContentNotFoundError,
  ContentStore,
  ContentStoreFullError,
  ContentStoreUnavailableError,
  InvalidContentKeyError,
  hashBytes,
  toContentStoreError,
} from '../../src/content/store.js';
import { rejectionOf } from '../support/rejection.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'content-store-'));
}

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/** Mounts a small tmpfs (needs root and mount(8)); false where the environment does not allow it. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('content store', () => {
  let dir: string;
  let store: ContentStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = await ContentStore.open(dir);
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('computes the SHA-256 key and the SHA-1 hash slot of the bytes in one call', () => {
    expect(hashBytes(Buffer.from('abc'))).to.deep.equal({
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      size: 3,
    });
  });

  it('creates objects/ and tmp/ when opened', async () => {
    expect((await fs.stat(path.join(dir, 'objects'))).isDirectory()).to.equal(true);
    expect((await fs.stat(path.join(dir, 'tmp'))).isDirectory()).to.equal(true);
  });

  it('gives back binary bytes identical to those stored, under their SHA-256', async () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1 << 20)]);
    const { key, created } = await store.put(bytes);
    expect(created).to.equal(true);
    expect(key).to.equal(hashBytes(bytes).sha256);
    const back = await store.get(key);
    expect(back.equals(bytes)).to.equal(true);
  });

  it('stores a blob under objects/<2 hex>/<2 hex>/<key> and leaves nothing in tmp/', async () => {
    const { key } = await store.put(Buffer.from('durable'));
    const file = path.join(dir, 'objects', key.slice(0, 2), key.slice(2, 4), key);
    expect((await fs.readFile(file)).toString()).to.equal('durable');
    expect(await fs.readdir(path.join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('does not write the same bytes twice, and touches the blob so that the sweeper sees it as fresh', async () => {
    const bytes = Buffer.from('same document');
    const first = await store.put(bytes);
    const file = store.pathOf(first.key);
    const old = new Date(Date.now() - 86_400_000);
    await fs.utimes(file, old, old);
    const inode = (await fs.stat(file)).ino;
    const second = await store.put(bytes);
    expect(second).to.deep.equal({ key: first.key, created: false });
    const stat = await fs.stat(file);
    expect(stat.ino).to.equal(inode);
    expect(stat.mtimeMs).to.be.greaterThan(Date.now() - 60_000);
  });

  it('accepts a SHA-256 the caller has already computed', async () => {
    const bytes = Buffer.from('hashed upstream');
    const { sha256 } = hashBytes(bytes);
    expect((await store.put(bytes, sha256)).key).to.equal(sha256);
    expect((await store.get(sha256)).equals(bytes)).to.equal(true);
  });

  it('survives concurrent puts of the same bytes with one intact blob and no temp file left', async () => {
    const bytes = randomBytes(256 * 1024);
    const results = await Promise.all(Array.from({ length: 16 }, () => store.put(bytes)));
    const keys = new Set(results.map((r) => r.key));
    expect(keys.size).to.equal(1);
    const key = results[0]!.key;
    expect(await store.verify(key, { sha1: hashBytes(bytes).sha1, size: bytes.length })).to.equal(true);
    expect(await fs.readdir(path.join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('rewrites a blob whose file on disk has the wrong size', async () => {
    const bytes = Buffer.from('complete content');
    const { key } = await store.put(bytes);
    await fs.truncate(store.pathOf(key), 4);
    expect((await store.put(bytes)).created).to.equal(true);
    expect((await store.get(key)).equals(bytes)).to.equal(true);
  });

  it('throws ContentNotFoundError for a key with no blob', async () => {
    const key = hashBytes(Buffer.from('never stored')).sha256;
    expect(await rejectionOf(store.get(key))).to.be.instanceOf(ContentNotFoundError);
    expect(await store.exists(key)).to.equal(false);
    expect(await store.remove(key)).to.equal(false);
  });

  it('refuses keys that are not 64 lower-case hex digits before building a path', async () => {
    for (const key of ['../../../etc/passwd', 'a'.repeat(63), 'A'.repeat(64), `${'a'.repeat(62)}/x`]) {
      expect(await rejectionOf(store.get(key))).to.be.instanceOf(InvalidContentKeyError);
      expect(await rejectionOf(store.exists(key))).to.be.instanceOf(InvalidContentKeyError);
      expect(await rejectionOf(store.remove(key))).to.be.instanceOf(InvalidContentKeyError);
      expect(await rejectionOf(store.put(Buffer.from('x'), key))).to.be.instanceOf(InvalidContentKeyError);
    }
  });

  it('verifies a blob against its key, SHA-1 and size by re-reading it from disk', async () => {
    const bytes = Buffer.from('verified bytes');
    const digests = hashBytes(bytes);
    const { key } = await store.put(bytes);
    expect(await store.verify(key, { sha1: digests.sha1, size: digests.size })).to.equal(true);
    expect(await store.verify(key, { sha1: digests.sha1.toUpperCase() })).to.equal(true);
    expect(await store.verify(key, { sha1: '0'.repeat(40) })).to.equal(false);
    expect(await store.verify(key, { size: digests.size + 1 })).to.equal(false);
  });

  it('reports a blob corrupted on disk as not verified, and rewrite() repairs it', async () => {
    const bytes = Buffer.from('bytes that will rot');
    const { key } = await store.put(bytes);
    await fs.writeFile(store.pathOf(key), Buffer.from('bytes that will ROT'));
    expect(await store.verify(key)).to.equal(false);
    expect((await store.put(bytes)).created).to.equal(false);
    await store.rewrite(bytes);
    expect(await store.verify(key, { size: bytes.length })).to.equal(true);
  });

  it('reports a missing blob as not verified', async () => {
    expect(await store.verify(hashBytes(Buffer.from('absent')).sha256)).to.equal(false);
  });

  it('removes a blob', async () => {
    const { key } = await store.put(Buffer.from('to remove'));
    expect(await store.remove(key)).to.equal(true);
    expect(await store.exists(key)).to.equal(false);
  });

  it('answers ping with a durable write in tmp/ and leaves nothing behind', async () => {
    await store.ping();
    expect(await fs.readdir(path.join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('lists only blobs older than the given age', async () => {
    const oldKey = (await store.put(Buffer.from('old'))).key;
    const newKey = (await store.put(Buffer.from('new'))).key;
    const old = new Date(Date.now() - 3_600_000);
    await fs.utimes(store.pathOf(oldKey), old, old);
    const listed: string[] = [];
    for await (const blob of store.listOlderThan(60_000)) listed.push(blob.key);
    expect(listed).to.deep.equal([oldKey]);
    expect(listed).to.not.include(newKey);
  });

  it('cleans temp files older than the given age only', async () => {
    await fs.writeFile(path.join(dir, 'tmp', 'put-interrupted'), 'partial');
    expect(await store.cleanTmp(60_000)).to.equal(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.cleanTmp(0)).to.equal(1);
    expect(await fs.readdir(path.join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('fails with ContentStoreUnavailableError when a shard directory cannot be created', async () => {
    const bytes = Buffer.from('blocked');
    const key = hashBytes(bytes).sha256;
    await fs.writeFile(path.join(dir, 'objects', key.slice(0, 2)), 'not a directory');
    const err = await rejectionOf(store.put(bytes));
    expect(err).to.be.instanceOf(ContentStoreUnavailableError);
    expect((err as ContentStoreUnavailableError).xdsCode).to.equal('XDSRepositoryError');
  });

  it('fails to open with ContentStoreUnavailableError when the directory is a file', async () => {
    const file = path.join(dir, 'a-file');
    await fs.writeFile(file, '');
    expect(await rejectionOf(ContentStore.open(file))).to.be.instanceOf(ContentStoreUnavailableError);
  });

  describe('error mapping', () => {
    it('maps ENOSPC and EDQUOT to ContentStoreFullError (XDSRepositoryOutOfResources)', () => {
      for (const code of ['ENOSPC', 'EDQUOT']) {
        const err = toContentStoreError(errnoError(code), 'storing');
        expect(err).to.be.instanceOf(ContentStoreFullError);
        expect((err as ContentStoreFullError).xdsCode).to.equal('XDSRepositoryOutOfResources');
      }
    });

    it('maps EACCES, EROFS, EPERM and EIO to ContentStoreUnavailableError (XDSRepositoryError)', () => {
      for (const code of ['EACCES', 'EROFS', 'EPERM', 'EIO']) {
        expect(toContentStoreError(errnoError(code), 'storing')).to.be.instanceOf(ContentStoreUnavailableError);
      }
    });

    it('leaves errors that are not system errors as they are', () => {
      const plain = new TypeError('bug');
      expect(toContentStoreError(plain, 'storing')).to.equal(plain);
    });
  });

  describe('on a real small or read-only volume (needs root and mount)', () => {
    let mnt: string;
    let mounted = false;

    beforeEach(async function () {
      mnt = await tempDir();
      mounted = mountTmpfs(mnt, '256k');
      if (!mounted) this.skip();
    });

    afterEach(async () => {
      if (mounted) execFileSync('umount', [mnt]);
      await fs.rm(mnt, { recursive: true, force: true });
    });

    it('fails with ContentStoreFullError when the volume is full, leaving no partial temp file', async () => {
      const small = await ContentStore.open(mnt);
      const err = await rejectionOf(small.put(randomBytes(1 << 20)));
      expect(err).to.be.instanceOf(ContentStoreFullError);
      expect(await fs.readdir(path.join(mnt, 'tmp'))).to.deep.equal([]);
    });

    it('fails with ContentStoreUnavailableError on a read-only volume, for put and for ping', async () => {
      const ro = await ContentStore.open(mnt);
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      expect(await rejectionOf(ro.put(Buffer.from('read-only')))).to.be.instanceOf(ContentStoreUnavailableError);
      expect(await rejectionOf(ro.ping())).to.be.instanceOf(ContentStoreUnavailableError);
    });
  });
});
