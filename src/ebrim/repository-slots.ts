import type { DocumentEntry, RimSlot } from './model.js';

/**
 * The entry as the repository registers it: hash, size and repositoryUniqueId set from the stored
 * bytes, in the typed fields and in the slots. A slot the submitter sent with the same value stays
 * as sent; every other slot is kept unchanged and in order.
 */
export function withRepositorySlots(entry: DocumentEntry, stored: { sha1: string; size: number }, repositoryUniqueId: string): DocumentEntry {
  const wanted: [name: 'hash' | 'size' | 'repositoryUniqueId', value: string, same: (sent: string) => boolean][] = [
    ['hash', stored.sha1, (sent) => sent.toLowerCase() === stored.sha1.toLowerCase()],
    ['size', String(stored.size), (sent) => sent === String(stored.size)],
    ['repositoryUniqueId', repositoryUniqueId, (sent) => sent === repositoryUniqueId],
  ];
  const slots: RimSlot[] = entry.rim.slots.slice();
  const result: DocumentEntry = { ...entry };
  for (const [name, value, same] of wanted) {
    const i = slots.findIndex((s) => s.name === name);
    const sent = i === -1 ? undefined : slots[i]!;
    if (sent && sent.values.length === 1 && same(sent.values[0]!)) {
      result[name] = sent.values[0]!;
      continue;
    }
    const slot: RimSlot = sent ? { ...sent, values: [value] } : { name, values: [value] };
    if (i === -1) slots.push(slot);
    else slots[i] = slot;
    result[name] = value;
  }
  result.rim = { ...entry.rim, slots };
  return result;
}
