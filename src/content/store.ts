import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFile, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ContentNotFoundError, InvalidContentKeyError, isNotFound, toContentStoreError } from './errors.js';

export {
  ContentNotFoundError,
  ContentStoreFullError,
  ContentStoreUnavailableError,
  InvalidContentKeyError,
  toContentStoreError,
} from './errors.js';

export interface ContentDigests {
  /** Hex SHA-256: the key of the blob in the store. */
  sha256: string;
  /** Hex SHA-1: the XDS `hash` slot. */
  sha1: string;
  size: number;
}

export interface StoredBlob {
  key: string;
  mtimeMs: number;
}

const KEY = /^[0-9a-f]{64}$/;

/** Both digests of a document in one pass over its bytes. */
export function hashBytes(bytes: Buffer): ContentDigests {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sha1: createHash('sha1').update(bytes).digest('hex'),
    size: bytes.length,
  };
}

export function isContentKey(key: string): boolean {
  return KEY.test(key);
}

function checkKey(key: string): void {
  if (!KEY.test(key)) throw new InvalidContentKeyError(key);
}

/** The callback readFile: its open, fstat, read and close run without the per-step promises of fs/promises (half the CPU per read). */
const readWhole = promisify(readFile);

function randomName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(8).toString('hex')}`;
}

/** Makes a directory's entries (a rename, a new file or sub-directory) durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a whole file with O_EXCL and fsyncs it; a partial file is removed on failure. */
async function writeDurably(file: string, bytes: Buffer): Promise<void> {
  const fh = await fs.open(file, 'wx', 0o640);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(file, { force: true }).catch(() => undefined);
    throw err;
  }
  await fh.close();
}

/**
 * Document bytes on the local (or shared) file system, addressed by their SHA-256. A blob is written to
 * `tmp/`, fsynced, renamed into `objects/ab/cd/<key>` and its directory fsynced before put() resolves, so
 * an acknowledged document survives a crash of the process or of the machine.
 */
export class ContentStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  private constructor(readonly dir: string) {
    this.objectsDir = path.join(dir, 'objects');
    this.tmpDir = path.join(dir, 'tmp');
  }

  static async open(dir: string): Promise<ContentStore> {
    const store = new ContentStore(path.resolve(dir));
    try {
      await fs.mkdir(store.objectsDir, { recursive: true });
      await fs.mkdir(store.tmpDir, { recursive: true });
    } catch (err) {
      throw toContentStoreError(err, `opening ${store.dir}`);
    }
    return store;
  }

  pathOf(key: string): string {
    checkKey(key);
    return path.join(this.objectsDir, key.slice(0, 2), key.slice(2, 4), key);
  }

  /**
   * Stores the bytes under their SHA-256 (`sha256` when the caller has already computed it). A blob already
   * present with the same size is not rewritten, only touched, so that the sweeper sees it as fresh.
   */
  async put(bytes: Buffer, sha256?: string): Promise<{ key: string; created: boolean }> {
    const key = sha256 ?? hashBytes(bytes).sha256;
    const target = this.pathOf(key);
    try {
      if (await this.touchIfComplete(target, bytes.length)) return { key, created: false };
      await this.writeBlob(target, bytes);
      return { key, created: true };
    } catch (err) {
      throw toContentStoreError(err, `storing ${key}`);
    }
  }

  /** Writes the blob again even when a file is present: repairs a blob that verify() found wrong. */
  async rewrite(bytes: Buffer, sha256?: string): Promise<{ key: string }> {
    const key = sha256 ?? hashBytes(bytes).sha256;
    const target = this.pathOf(key);
    try {
      await this.writeBlob(target, bytes);
      return { key };
    } catch (err) {
      throw toContentStoreError(err, `rewriting ${key}`);
    }
  }

  async get(key: string): Promise<Buffer> {
    const file = this.pathOf(key);
    try {
      return await readWhole(file);
    } catch (err) {
      if (isNotFound(err)) throw new ContentNotFoundError(key);
      throw toContentStoreError(err, `reading ${key}`);
    }
  }

  /** A registered document's bytes: the registry's inline copy when it has one (the gateway's DSG signatures), else the blob. */
  async bytesOf(doc: { contentKey: string; inline?: Buffer | undefined }): Promise<Buffer> {
    return doc.inline ?? this.get(doc.contentKey);
  }

  /** Re-reads the blob from disk and checks its SHA-256 against the key, and its SHA-1 and size when given. */
  async verify(key: string, expected: { sha1?: string; size?: number } = {}): Promise<boolean> {
    const file = this.pathOf(key);
    const sha256 = createHash('sha256');
    const sha1 = createHash('sha1');
    let size = 0;
    try {
      for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
        sha256.update(chunk);
        sha1.update(chunk);
        size += chunk.length;
      }
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toContentStoreError(err, `verifying ${key}`);
    }
    if (sha256.digest('hex') !== key) return false;
    if (expected.sha1 !== undefined && sha1.digest('hex') !== expected.sha1.toLowerCase()) return false;
    return expected.size === undefined || size === expected.size;
  }

  async exists(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      return (await fs.stat(file)).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toContentStoreError(err, `looking up ${key}`);
    }
  }

  /** Whether the blob is present with this size (a stat, the bytes are not read). */
  async hasBlob(key: string, size: number): Promise<boolean> {
    const stat = await this.statOrNull(this.pathOf(key));
    return stat !== null && stat.isFile() && stat.size === size;
  }

  /** Removes the blob; false when there was none. */
  async remove(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      await fs.unlink(file);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toContentStoreError(err, `removing ${key}`);
    }
  }

  /**
   * Removes the blob only if nobody stored the same bytes since `cutoffMs`. The blob is first moved aside,
   * then its mtime is checked: a put() that touched it before the move is seen and the blob is put back,
   * a put() that comes after the move finds nothing and writes the blob again.
   */
  async removeIfOlderThan(key: string, cutoffMs: number): Promise<boolean> {
    const file = this.pathOf(key);
    const aside = path.join(this.tmpDir, randomName(`sweep-${key.slice(0, 8)}-`));
    try {
      await fs.rename(file, aside);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toContentStoreError(err, `removing ${key}`);
    }
    try {
      if ((await fs.stat(aside)).mtimeMs >= cutoffMs) {
        await fs.rename(aside, file);
        return false;
      }
      await fs.unlink(aside);
      return true;
    } catch (err) {
      throw toContentStoreError(err, `removing ${key}`);
    }
  }

  /** Proves the store can write durably right now: write, fsync and delete a small probe file. */
  async ping(): Promise<void> {
    const probe = path.join(this.tmpDir, randomName('ping-'));
    try {
      await writeDurably(probe, Buffer.from('ping'));
      await fs.unlink(probe);
    } catch (err) {
      throw toContentStoreError(err, 'probing');
    }
  }

  /** Every blob whose last write or touch is older than `ms`; the files are listed as they are found. */
  async *listOlderThan(ms: number): AsyncIterable<StoredBlob> {
    const cutoff = Date.now() - ms;
    for (const level1 of await this.subdirs(this.objectsDir)) {
      for (const level2 of await this.subdirs(level1)) {
        for (const name of await this.entries(level2)) {
          if (!KEY.test(name)) continue;
          const stat = await this.statOrNull(path.join(level2, name));
          if (stat !== null && stat.isFile() && stat.mtimeMs < cutoff) yield { key: name, mtimeMs: stat.mtimeMs };
        }
      }
    }
  }

  /** Deletes temp files left by interrupted writes; ctime also covers files just moved aside by the sweeper. */
  async cleanTmp(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await this.entries(this.tmpDir)) {
      const file = path.join(this.tmpDir, name);
      const stat = await this.statOrNull(file);
      if (stat === null || !stat.isFile() || stat.ctimeMs >= cutoff) continue;
      try {
        await fs.unlink(file);
        removed++;
      } catch (err) {
        if (!isNotFound(err)) throw toContentStoreError(err, `cleaning ${file}`);
      }
    }
    return removed;
  }

  private async touchIfComplete(target: string, size: number): Promise<boolean> {
    const stat = await this.statOrNull(target);
    if (stat === null || !stat.isFile() || stat.size !== size) return false;
    const now = new Date();
    try {
      await fs.utimes(target, now, now);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async writeBlob(target: string, bytes: Buffer): Promise<void> {
    const shardDir = path.dirname(target);
    const firstCreated = await fs.mkdir(shardDir, { recursive: true });
    const tmp = path.join(this.tmpDir, randomName('put-'));
    await writeDurably(tmp, bytes);
    try {
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await syncDir(shardDir);
    for (const dir of createdParents(shardDir, firstCreated)) await syncDir(dir);
  }

  private async subdirs(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const name of await this.entries(dir)) {
      if (/^[0-9a-f]{2}$/.test(name)) out.push(path.join(dir, name));
    }
    return out;
  }

  private async entries(dir: string): Promise<string[]> {
    try {
      return (await fs.readdir(dir)).sort();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw toContentStoreError(err, `listing ${dir}`);
    }
  }

  private async statOrNull(file: string): Promise<Stats | null> {
    try {
      return await fs.stat(file);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw toContentStoreError(err, `reading ${file}`);
    }
  }
}

/** The directories whose entries changed because mkdir created `firstCreated` and everything below it. */
function createdParents(shardDir: string, firstCreated: string | undefined): string[] {
  if (firstCreated === undefined) return [];
  const dirs: string[] = [];
  let dir = shardDir;
  for (;;) {
    dirs.push(path.dirname(dir));
    if (dir === firstCreated || dir === path.dirname(dir)) break;
    dir = path.dirname(dir);
  }
  return dirs;
}
