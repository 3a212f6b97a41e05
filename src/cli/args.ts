import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { isDtm } from '../ebrim/dtm.js';
import { EXIT, CliError, localFileError, usageError } from './exit.js';
import { GatewayClient } from './client.js';
import { securityHeaderFromFile } from './soap-request.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command that talks to the gateway takes. */
export const GATEWAY_OPTIONS = {
  url: { type: 'string' },
  assertion: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** node:util parseArgs, strict, its errors turned into usage errors (exit 2) that name the command. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(`${command}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
}

/** Where file names typed by the user are relative to: the directory `npm run` was typed in, else the current one. */
export function userDirectory(): string {
  const viaNpm = process.env.npm_lifecycle_event !== undefined && process.env.INIT_CWD;
  return viaNpm ? process.env.INIT_CWD! : process.cwd();
}

export const resolveUserPath = (p: string): string => path.resolve(userDirectory(), p);

/** A positive integer option. */
export function positiveInteger(name: string, value: string | undefined, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw usageError(`--${name} must be an integer from 1 to ${max}, not '${value}'`);
  return Number(value);
}

/** Seconds (decimals allowed) as milliseconds. */
export function seconds(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) throw usageError(`--${name} must be a number of seconds, not '${value}'`);
  return Math.round(Number(value) * 1000);
}

/**
 * A date or time typed by a person as an XDS DTM (UTC): `2024-06-03`, `2024-06-03T09:45`,
 * `2024-06-03T09:45:00Z` (any ISO 8601 zone), or already `20240603[0945[00]]`.
 */
export function toDtm(name: string, value: string): string {
  if (isDtm(value)) return value;
  const date = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(value);
  if (date && isDtm(`${date[1]}${date[2]}${date[3] ?? ''}`)) return `${date[1]}${date[2]}${date[3] ?? ''}`;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (m) {
    const zone = m[5] ?? 'Z';
    const iso = `${m[1]}T${m[2]}:${m[3]}:${m[4] ?? '00'}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`;
    const t = new Date(iso);
    if (!Number.isNaN(t.getTime())) return t.toISOString().replace(/[-:T]/g, '').slice(0, m[4] ? 14 : 12);
  }
  throw usageError(`--${name} '${value}' is not a date: use YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss][Z|±hh:mm] (UTC when no zone) or YYYYMMDD[hhmm[ss]]`);
}

export const DEFAULT_URL = 'http://localhost:8080';

interface ClientValues {
  url?: string;
  assertion?: string;
  timeout?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

async function readPem(option: string, file: string | undefined): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(resolveUserPath(file));
  } catch (err) {
    throw localFileError(`cannot read the --${option} file ${file}: ${(err as Error).message}`);
  }
}

/** --ca, --cert and --key (XDSGW_CA, XDSGW_CERT, XDSGW_KEY): the PEM files of an HTTPS gateway, with mutual TLS. */
async function tlsFiles(values: ClientValues): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const env = (name: string) => process.env[name] || undefined;
  const [ca, cert, key] = [values.ca ?? env('XDSGW_CA'), values.cert ?? env('XDSGW_CERT'), values.key ?? env('XDSGW_KEY')];
  if ((cert === undefined) !== (key === undefined)) throw usageError('--cert and --key go together: the client certificate and its private key');
  const files = { ca: await readPem('ca', ca), cert: await readPem('cert', cert), key: await readPem('key', key) };
  return Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined));
}

/** The gateway client the common options describe: --url (XDSGW_URL), --assertion (XDSGW_ASSERTION), --timeout, TLS files. */
export async function openClient(values: ClientValues, connections = 4): Promise<GatewayClient> {
  const url = values.url ?? (process.env.XDSGW_URL || DEFAULT_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--url '${url}' is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`--url '${url}' must be an http: or https: URL`);
  const assertion = values.assertion ?? (process.env.XDSGW_ASSERTION || undefined);
  const securityXml = assertion === undefined ? undefined : await securityHeaderFromFile(resolveUserPath(assertion));
  return new GatewayClient({ url, securityXml, timeoutMs: seconds('timeout', values.timeout, 120_000), connections, tls: await tlsFiles(values) });
}

/** Prints a JSON result on stdout, as scripts read it. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export { CliError, EXIT };

/** The gateway's configuration from the environment, for an offline command: a bad setting is a usage error. */
export function configOrUsageError(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw usageError(err.message);
    throw err;
  }
}
