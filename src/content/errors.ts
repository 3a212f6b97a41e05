import type { XdsErrorCode } from '../errors.js';

/** No blob is stored under this key. */
export class ContentNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no content stored under ${key}`);
    this.name = 'ContentNotFoundError';
  }
}

/** A key that is not 64 lower-case hex digits: refused before any path is built from it. */
export class InvalidContentKeyError extends Error {
  constructor(readonly key: string) {
    super(`invalid content key '${key.slice(0, 80)}'`);
    this.name = 'InvalidContentKeyError';
  }
}

/** The volume holding the content store is full (ENOSPC, EDQUOT). */
export class ContentStoreFullError extends Error {
  readonly xdsCode: XdsErrorCode = 'XDSRepositoryOutOfResources';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ContentStoreFullError';
  }
}

/** The content store cannot be read or written (permissions, read-only or failing volume, ...). */
export class ContentStoreUnavailableError extends Error {
  readonly xdsCode: XdsErrorCode = 'XDSRepositoryError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ContentStoreUnavailableError';
  }
}

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns a file system failure into the store's own error: a full volume is out of resources, any other
 * system error (EACCES, EROFS, EPERM, EIO, ENOTDIR, ...) means the store cannot be used right now.
 */
export function toContentStoreError(err: unknown, doing: string): Error {
  if (err instanceof ContentStoreFullError || err instanceof ContentStoreUnavailableError) return err;
  const code = errnoCode(err);
  if (code === undefined || !code.startsWith('E')) return err instanceof Error ? err : new Error(String(err));
  const detail = err instanceof Error ? err.message : code;
  if (FULL_CODES.has(code)) return new ContentStoreFullError(`content store is full while ${doing}: ${detail}`, { cause: err });
  return new ContentStoreUnavailableError(`content store unavailable while ${doing}: ${detail}`, { cause: err });
}

export function isNotFound(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}
