import { hashBytes, type ContentStore } from '../../src/content/store.js';

export interface StoredBytesRow {
  content_key: string | null;
  size: string | number | null;
  inline_content: Uint8Array | null;
}

/** The columns StoredBytesRow reads, for a `select ... from document_entries`. */
export const STORED_BYTES_COLUMNS = 'content_key, size::text as size, inline_content';

/**
 * The registered documents whose bytes are not where the registry says: inline in their row (the
 * gateway's signatures, checked against their key and size) or a whole blob of the content store.
 */
export async function missingStoredBytes(rows: StoredBytesRow[], store: ContentStore): Promise<string[]> {
  const missing: string[] = [];
  for (const row of rows) {
    if (!row.content_key) continue;
    const ok = row.inline_content
      ? hashBytes(Buffer.from(row.inline_content)).sha256 === row.content_key && row.inline_content.length === Number(row.size)
      : await store.verify(row.content_key, { size: Number(row.size) });
    if (!ok) missing.push(`bytes of ${row.content_key}`);
  }
  return missing;
}
