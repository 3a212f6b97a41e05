import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultTemplatesDir } from '../../cda/validate-document.js';
import { loadDocumentTypes, type DocumentType } from '../../cda/document-types.js';
import { SOAP_ACTION } from '../../ebrim/uuids.js';
import { isOid } from '../../ebrim/values.js';
import { GATEWAY_OPTIONS, openClient, parseCommandArgs, positiveInteger, printJson, resolveUserPath, seconds, userDirectory } from '../args.js';
import { metadataFromCda, looksLikeCda, parseCodedValue, provideAndRegister, type CodedValue, type MetadataOptions } from '../cda-metadata.js';
import { SoapFaultError, type GatewayClient } from '../client.js';
import { CliError, EXIT, usageError, type ExitCode } from '../exit.js';
import { Progress, duration } from '../progress.js';
import { formatRegistryError, registryOutcome, type RegistryErrorView } from '../responses.js';
import { collectFiles, type InputFile } from '../submit-files.js';
import { SubmissionState } from '../submit-state.js';

export const SUBMIT_USAGE = `usage: xdsgw submit FILE|DIR... [options]
Builds the ITI-41 metadata of each CDA document from its header and submits it, one submission per document.
  --concurrency N         submissions in flight at once (default 4)
  --state FILE            state file of accepted documents (default DIR/.xdsgw-submitted.jsonl for one DIR,
                          else ./.xdsgw-submitted.jsonl); a re-run skips what it lists
  --source-id OID         SubmissionSet.sourceId (default XDSGW_SOURCE_ID, else ${'1.2.250.1.999.1.2.1'})
  --content-type C^D^S    SubmissionSet.contentTypeCode (default: encompassingEncounter/code)
  --facility-type C^D^S   healthcareFacilityTypeCode (default: healthCareFacility/code)
  --practice-setting C^D^S  practiceSettingCode (default: the first standardIndustryClassCode)
  --class-code C^D^S, --format-code C^D^S  for document types cda-templates/ does not describe
  --confidentiality C^D^S add a confidentiality code (repeatable), e.g. MASQUE_PS^Masqué aux PS^1.2.250.1.213.1.1.4.13
  --retries N             retries of a submission answered XDSRepositoryBusy/XDSRegistryBusy (default 5)
  --progress-interval S   seconds between progress lines when stderr is not a terminal (default 5)
  --quiet                 no progress; --verbose: one line per accepted document, with its warnings
  --url URL  --assertion FILE  --ca FILE  --cert FILE --key FILE  --timeout S  --json`;

const DEFAULT_SOURCE_ID = '1.2.250.1.999.1.2.1';
const BUSY = new Set(['XDSRepositoryBusy', 'XDSRegistryBusy']);
/** Faults that no other document of the run would escape: stop at the first. */
const CALLER_FAULT = /^(wsse:|.*:)?(InvalidSecurity|FailedAuthentication|FailedCheck|SecurityTokenUnavailable)$/;

type Outcome =
  | { kind: 'accepted'; uniqueId: string; warnings: RegistryErrorView[] }
  | { kind: 'skipped'; reason: 'already-submitted' | 'already-registered' | 'same-content' | 'not-cda'; detail: string }
  | { kind: 'refused'; errors: RegistryErrorView[] }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'interrupted' };

interface Failure {
  file: string;
  outcome: 'refused' | 'not-submitted' | 'interrupted';
  errors?: RegistryErrorView[];
  problems?: string[];
}

interface Summary {
  files: number;
  accepted: number;
  /** Accepted with Warning errors (a missing optional section): shown with --verbose. */
  acceptedWithWarnings: number;
  skipped: { alreadySubmitted: number; alreadyRegistered: number; sameContent: number; notCda: number };
  refused: number;
  refusedByCode: Record<string, number>;
  notSubmitted: number;
  interruptedInFlight: number;
  notAttempted: number;
  interrupted: boolean;
  elapsedSeconds: number;
  state: string;
  failures: Failure[];
  error?: string;
}

interface Run {
  client: GatewayClient;
  state: SubmissionState;
  types: DocumentType[];
  metadata: MetadataOptions;
  retries: number;
  verbose: boolean;
  progress: Progress;
  abort: AbortController;
  /** Set by the first Ctrl-C or SIGTERM, or by a failure no document would escape: no new submission starts. */
  stop?: { signal?: NodeJS.Signals; error?: CliError };
  seen: Map<string, string>;
}

export async function submitCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('submit', argv, {
    ...GATEWAY_OPTIONS,
    concurrency: { type: 'string', short: 'j' },
    state: { type: 'string' },
    'source-id': { type: 'string' },
    'content-type': { type: 'string' },
    'facility-type': { type: 'string' },
    'practice-setting': { type: 'string' },
    'class-code': { type: 'string' },
    'format-code': { type: 'string' },
    confidentiality: { type: 'string', multiple: true },
    retries: { type: 'string' },
    'progress-interval': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
  });
  if (values.help) {
    console.log(SUBMIT_USAGE);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw usageError(`submit: no FILE or DIR given\n${SUBMIT_USAGE}`);
  const concurrency = positiveInteger('concurrency', values.concurrency, 4, 256);
  const retries = values.retries === '0' ? 0 : positiveInteger('retries', values.retries, 5, 100);
  const intervalMs = seconds('progress-interval', values['progress-interval'], 5000);
  const sourceId = values['source-id'] ?? (process.env.XDSGW_SOURCE_ID || DEFAULT_SOURCE_ID);
  if (!isOid(sourceId)) throw usageError(`--source-id '${sourceId}' is not an OID`);
  const code = (name: string, v: string | undefined): CodedValue | undefined => {
    if (v === undefined) return undefined;
    const c = parseCodedValue(v);
    if (!c) throw usageError(`--${name} '${v}' must be CODE^DISPLAY^CODING-SCHEME-OID`);
    return c;
  };
  const overrides: Omit<MetadataOptions, 'patientAuthority'> = {
    sourceId,
    contentType: code('content-type', values['content-type']),
    healthcareFacilityType: code('facility-type', values['facility-type']),
    practiceSetting: code('practice-setting', values['practice-setting']),
    classCode: code('class-code', values['class-code']),
    formatCode: code('format-code', values['format-code']),
    extraConfidentiality: (values.confidentiality ?? []).map((c) => code('confidentiality', c)!),
  };

  const inputs = positionals.map(resolveUserPath);
  const files = await collectFiles(inputs);
  const stateFile = values.state ? resolveUserPath(values.state) : defaultStateFile(positionals.length === 1 ? inputs[0]! : undefined, files);
  const client = await openClient(values, concurrency);
  const started = Date.now();
  try {
    const info = await client.info();
    const state = await SubmissionState.open(stateFile);
    const tty = process.stderr.isTTY === true;
    const run: Run = {
      client,
      state,
      types: loadDocumentTypes(defaultTemplatesDir()),
      metadata: { ...overrides, patientAuthority: info.patientAuthority },
      retries,
      verbose: values.verbose === true,
      progress: new Progress(files.length, { tty, intervalMs, enabled: values.quiet !== true }),
      abort: new AbortController(),
      seen: new Map(),
    };
    if (state.ignoredLines) run.progress.log(`warning: ${state.ignoredLines} unreadable line(s) of ${stateFile} ignored`);
    const summary = await withSignals(run, () => submitAll(run, files, concurrency));
    await state.close();
    summary.elapsedSeconds = Math.round((Date.now() - started) / 100) / 10;
    if (values.json) printJson(summary);
    else printSummary(summary);
    if (run.stop?.signal) return run.stop.signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    if (run.stop?.error) {
      if (!values.json) console.error(`xdsgw: ${run.stop.error.message}`);
      return run.stop.error.exitCode;
    }
    return summary.refused + summary.notSubmitted > 0 ? EXIT.refused : EXIT.ok;
  } finally {
    await client.close();
  }
}

function defaultStateFile(singleInput: string | undefined, files: InputFile[]): string {
  const isDir = singleInput !== undefined && !(files.length === 1 && files[0]!.explicit);
  return path.join(isDir ? singleInput : userDirectory(), '.xdsgw-submitted.jsonl');
}

/** First SIGINT/SIGTERM: finish what is in flight and stop; the second aborts the submissions in flight. */
async function withSignals<T>(run: Run, body: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals) => {
    if (!run.stop?.signal) {
      run.stop = { ...run.stop, signal };
      run.progress.log(`${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: finishing the submissions in flight, then stopping (again to abort them; the state file is kept)`);
    } else run.abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function submitAll(run: Run, files: InputFile[], concurrency: number): Promise<Summary> {
  const summary: Summary = {
    files: files.length,
    accepted: 0,
    acceptedWithWarnings: 0,
    skipped: { alreadySubmitted: 0, alreadyRegistered: 0, sameContent: 0, notCda: 0 },
    refused: 0,
    refusedByCode: {},
    notSubmitted: 0,
    interruptedInFlight: 0,
    notAttempted: 0,
    interrupted: false,
    elapsedSeconds: 0,
    state: run.state.file,
    failures: [],
  };
  let next = 0;
  let done = 0;
  const counts = () => ({
    done,
    total: files.length,
    accepted: summary.accepted,
    refused: summary.refused,
    skipped: summary.skipped.alreadySubmitted + summary.skipped.alreadyRegistered + summary.skipped.sameContent + summary.skipped.notCda,
    invalid: summary.notSubmitted,
  });
  const worker = async () => {
    while (!run.stop && next < files.length) {
      const file = files[next++]!;
      const shown = path.relative(userDirectory(), file.path) || file.path;
      let outcome: Outcome;
      try {
        outcome = await submitFile(run, file, shown);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        // The gateway is unreachable or answers nonsense, or a local file cannot be written: no later file would fare better.
        run.stop ??= { error: err };
        outcome = { kind: 'interrupted' };
      }
      done++;
      tally(run, summary, shown, outcome);
      run.progress.update(counts());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(files.length, 1)) }, worker));
  run.progress.finish();
  summary.notAttempted = files.length - done;
  summary.interrupted = run.stop?.signal !== undefined;
  if (run.stop?.error) summary.error = run.stop.error.message;
  return summary;
}

function tally(run: Run, summary: Summary, file: string, outcome: Outcome): void {
  switch (outcome.kind) {
    case 'accepted':
      summary.accepted++;
      if (outcome.warnings.length) summary.acceptedWithWarnings++;
      if (!run.verbose) break;
      run.progress.log(`ACCEPTED ${file} ${outcome.uniqueId}`);
      for (const w of outcome.warnings) run.progress.log(`  ${formatRegistryError(w)}`);
      break;
    case 'skipped': {
      const key = { 'already-submitted': 'alreadySubmitted', 'already-registered': 'alreadyRegistered', 'same-content': 'sameContent', 'not-cda': 'notCda' } as const;
      summary.skipped[key[outcome.reason]]++;
      if (run.verbose || outcome.reason === 'not-cda') run.progress.log(`SKIPPED ${file}: ${outcome.detail}`);
      break;
    }
    case 'refused':
      summary.refused++;
      for (const code of new Set(outcome.errors.filter((e) => e.severity === 'Error').map((e) => e.code))) summary.refusedByCode[code] = (summary.refusedByCode[code] ?? 0) + 1;
      summary.failures.push({ file, outcome: 'refused', errors: outcome.errors });
      run.progress.log(`REFUSED ${file}`);
      for (const e of outcome.errors) run.progress.log(`  ${formatRegistryError(e)}`);
      break;
    case 'invalid':
      summary.notSubmitted++;
      summary.failures.push({ file, outcome: 'not-submitted', problems: outcome.problems });
      run.progress.log(`NOT SUBMITTED ${file}`);
      for (const p of outcome.problems) run.progress.log(`  ${p}`);
      break;
    case 'interrupted':
      summary.interruptedInFlight++;
      summary.failures.push({ file, outcome: 'interrupted' });
      break;
  }
}

async function submitFile(run: Run, file: InputFile, shown: string): Promise<Outcome> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file.path);
  } catch (err) {
    return { kind: 'invalid', problems: [`cannot read the file: ${(err as Error).message}`] };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const known = run.state.has(sha256);
  if (known) return { kind: 'skipped', reason: 'already-submitted', detail: `${known.uniqueId} accepted at ${known.at} (state file)` };
  const twin = run.seen.get(sha256);
  if (twin) return { kind: 'skipped', reason: 'same-content', detail: `same bytes as ${twin}` };
  run.seen.set(sha256, shown);
  if (!looksLikeCda(bytes)) {
    const problem = 'not a CDA document (no ClinicalDocument of urn:hl7-org:v3)';
    return file.explicit ? { kind: 'invalid', problems: [problem] } : { kind: 'skipped', reason: 'not-cda', detail: problem };
  }
  const built = metadataFromCda(bytes, run.types, run.metadata);
  if (!built.submission) return { kind: 'invalid', problems: built.problems };
  const s = built.submission;

  for (let attempt = 0; ; attempt++) {
    const request = provideAndRegister(s);
    let errors: RegistryErrorView[];
    try {
      const answer = await run.client.soap('/xds/iti41', SOAP_ACTION.iti41, request.bodyXml, { attachments: request.attachments, signal: run.abort.signal });
      const outcome = registryOutcome(answer.body);
      if (outcome.status === 'Success') {
        await run.state.record({ sha256, file: shown, uniqueId: s.uniqueId, patientId: s.patientId, submissionSetUniqueId: request.submissionSetUniqueId, outcome: 'accepted', at: new Date().toISOString() });
        return { kind: 'accepted', uniqueId: s.uniqueId, warnings: outcome.errors };
      }
      errors = outcome.errors;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return { kind: 'interrupted' };
      if (err instanceof SoapFaultError) {
        if (err.subcode && CALLER_FAULT.test(err.subcode)) throw err;
        return { kind: 'refused', errors: [{ code: `SOAP fault ${err.code}${err.subcode ? ` ${err.subcode}` : ''}`, message: err.reason, severity: 'Error' }] };
      }
      throw err;
    }
    const failing = errors.filter((e) => e.severity === 'Error');
    if (failing.length > 0 && failing.every((e) => e.code === 'XDSDuplicateUniqueIdInRegistry')) {
      // Same uniqueId, same bytes: registered by an earlier run whose answer never reached the state file.
      await run.state.record({ sha256, file: shown, uniqueId: s.uniqueId, patientId: s.patientId, outcome: 'already-registered', at: new Date().toISOString() });
      return { kind: 'skipped', reason: 'already-registered', detail: `${s.uniqueId} is already in the registry` };
    }
    if (failing.length === 0 || !failing.every((e) => BUSY.has(e.code)) || attempt >= run.retries || run.stop) return { kind: 'refused', errors };
    try {
      await sleep(Math.min(500 * 2 ** attempt, 15_000), undefined, { signal: run.abort.signal });
    } catch {
      return { kind: 'interrupted' };
    }
  }
}

function printSummary(s: Summary): void {
  const rate = s.elapsedSeconds > 0 ? (s.accepted / s.elapsedSeconds).toFixed(1) : '0';
  const row = (label: string, n: number, note = '') => console.log(`  ${label.padEnd(22)} ${String(n).padStart(7)}${note ? `  ${note}` : ''}`);
  console.log(`${s.interrupted ? 'Interrupted after' : 'Done:'} ${s.files} file(s) in ${duration(s.elapsedSeconds)} (${rate} accepted/s)`);
  row('accepted', s.accepted, s.acceptedWithWarnings ? `${s.acceptedWithWarnings} with warnings (--verbose shows them)` : '');
  row('refused', s.refused);
  for (const [code, n] of Object.entries(s.refusedByCode).sort((a, b) => b[1] - a[1])) row(`  ${code}`, n);
  if (s.notSubmitted) row('not submitted', s.notSubmitted, 'metadata could not be built from the file');
  row('skipped', s.skipped.alreadySubmitted + s.skipped.alreadyRegistered + s.skipped.sameContent + s.skipped.notCda);
  if (s.skipped.alreadySubmitted) row('  already submitted', s.skipped.alreadySubmitted, 'listed in the state file');
  if (s.skipped.alreadyRegistered) row('  already registered', s.skipped.alreadyRegistered, 'XDSDuplicateUniqueIdInRegistry');
  if (s.skipped.sameContent) row('  same content', s.skipped.sameContent, 'as another file of this run');
  if (s.skipped.notCda) row('  not CDA', s.skipped.notCda);
  if (s.interruptedInFlight) row('interrupted in flight', s.interruptedInFlight, 'outcome unknown: a re-run finds out');
  if (s.notAttempted) row('not attempted', s.notAttempted, 'a re-run submits them');
  console.log(`state file: ${s.state}`);
}
