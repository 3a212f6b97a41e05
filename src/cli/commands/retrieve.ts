import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SOAP_ACTION, NS } from '../../ebrim/uuids.js';
import { escapeXml } from '../../xml/tree.js';
import { GATEWAY_OPTIONS, openClient, parseCommandArgs, printJson, resolveUserPath } from '../args.js';
import { EXIT, localFileError, usageError, type ExitCode } from '../exit.js';
import { formatRegistryError, retrieveResult, type RetrievedDocument } from '../responses.js';

export const RETRIEVE_USAGE = `usage: xdsgw retrieve UNIQUEID... [options]
ITI-43 Retrieve Document Set: writes each document to DIR/<uniqueId>.<ext> (xml, pdf, txt, bin).
  --out DIR, -d DIR       directory to write into (default: the current one)
  --output FILE, -o FILE  file for a single document; - writes it to stdout
  --repository OID        repositoryUniqueId (default: the gateway's, from /api/info)
  --force                 overwrite existing files
  --url URL  --assertion FILE  --ca FILE  --cert FILE --key FILE  --timeout S  --json`;

const EXTENSIONS: Record<string, string> = { 'text/xml': 'xml', 'application/xml': 'xml', 'application/pdf': 'pdf', 'text/plain': 'txt' };

/** A uniqueId as a file name: `1.2.3^ext` → `1.2.3_ext`. */
const fileNameOf = (d: RetrievedDocument): string => `${d.documentUniqueId.replace(/[^\w.-]/g, '_')}.${EXTENSIONS[d.mimeType.split(';')[0]!.trim()] ?? 'bin'}`;

export async function retrieveCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('retrieve', argv, {
    ...GATEWAY_OPTIONS,
    out: { type: 'string', short: 'd' },
    output: { type: 'string', short: 'o' },
    repository: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    console.log(RETRIEVE_USAGE);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw usageError(`retrieve: no document uniqueId given\n${RETRIEVE_USAGE}`);
  if (values.output !== undefined && positionals.length !== 1) throw usageError('retrieve: --output takes a single document; use --out DIR for several');
  if (values.output !== undefined && values.out !== undefined) throw usageError('retrieve: give --output FILE or --out DIR, not both');
  if (values.output === '-' && values.json) throw usageError('retrieve: --output - writes the document to stdout, where --json would go too');

  const client = await openClient(values);
  try {
    const repository = values.repository ?? (await client.info()).repositoryUniqueId;
    const bodyXml =
      `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}">` +
      positionals
        .map((id) => `<xdsb:DocumentRequest><xdsb:RepositoryUniqueId>${escapeXml(repository)}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${escapeXml(id)}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>`)
        .join('') +
      `</xdsb:RetrieveDocumentSetRequest>`;
    const answer = await client.soap('/xds/iti43', SOAP_ACTION.iti43, bodyXml);
    const result = retrieveResult(answer.body, answer.attachments);
    const saved: { uniqueId: string; repositoryUniqueId: string; mimeType: string; size: number; file: string }[] = [];
    for (const d of result.documents) {
      const file = values.output === '-' ? '-' : values.output !== undefined ? resolveUserPath(values.output) : path.join(resolveUserPath(values.out ?? '.'), fileNameOf(d));
      await save(file, d.bytes, values.force === true);
      saved.push({ uniqueId: d.documentUniqueId, repositoryUniqueId: d.repositoryUniqueId, mimeType: d.mimeType, size: d.bytes.length, file });
    }
    if (values.json) printJson({ status: result.status, errors: result.errors, documents: saved });
    else {
      for (const s of saved) if (s.file !== '-') console.log(`${s.uniqueId} → ${s.file} (${s.mimeType}, ${s.size} bytes)`);
      for (const e of result.errors) console.error(formatRegistryError(e));
    }
    return result.status === 'Success' ? EXIT.ok : EXIT.refused;
  } finally {
    await client.close();
  }
}

async function save(file: string, bytes: Buffer, force: boolean): Promise<void> {
  if (file === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
    return;
  }
  try {
    await writeFile(file, bytes, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw localFileError(exists ? `${file} exists; use --force to overwrite it` : `cannot write ${file}: ${(err as Error).message}`);
  }
}
