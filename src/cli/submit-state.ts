import { open, readFile, type FileHandle } from 'node:fs/promises';
import { localFileError } from './exit.js';

/** One line of the state file: a document the registry holds, by the SHA-256 of its file's bytes. */
export interface StateEntry {
  sha256: string;
  file: string;
  uniqueId: string;
  patientId: string;
  /** Absent when the registry already held the document (XDSDuplicateUniqueIdInRegistry). */
  submissionSetUniqueId?: string;
  outcome: 'accepted' | 'already-registered';
  at: string;
}

/**
 * The resumable record of a submit run: a JSON line appended after each Success, so that a re-run
 * skips what the registry already holds, whatever stopped the previous run. A last line cut short
 * by a crash is ignored (that document is then sent again and answered XDSDuplicateUniqueIdInRegistry).
 */
export class SubmissionState {
  private constructor(
    readonly file: string,
    private readonly done: Map<string, StateEntry>,
    private readonly handle: FileHandle,
    readonly ignoredLines: number,
  ) {}

  static async open(file: string): Promise<SubmissionState> {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw localFileError(`cannot read the state file ${file}: ${(err as Error).message}`);
    }
    const done = new Map<string, StateEntry>();
    let ignored = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const entry = parseLine(line);
      if (entry) done.set(entry.sha256, entry);
      else ignored++;
    }
    let handle: FileHandle;
    try {
      handle = await open(file, 'a');
    } catch (err) {
      throw localFileError(`cannot write the state file ${file}: ${(err as Error).message}`);
    }
    // A line cut short by a crash must not glue itself to the next one.
    if (text && !text.endsWith('\n')) await handle.appendFile('\n');
    return new SubmissionState(file, done, handle, ignored);
  }

  get size(): number {
    return this.done.size;
  }

  has(sha256: string): StateEntry | undefined {
    return this.done.get(sha256);
  }

  /** Appends the entry in one write, so that a line is whole or, after a crash, cut short and ignored. */
  async record(entry: StateEntry): Promise<void> {
    this.done.set(entry.sha256, entry);
    try {
      await this.handle.appendFile(`${JSON.stringify(entry)}\n`);
    } catch (err) {
      throw localFileError(`cannot write the state file ${this.file}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.handle.datasync().catch(() => undefined);
    await this.handle.close();
  }
}

function parseLine(line: string): StateEntry | undefined {
  try {
    const v = JSON.parse(line) as Partial<StateEntry>;
    return typeof v.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.sha256) && typeof v.uniqueId === 'string' ? (v as StateEntry) : undefined;
  } catch {
    return undefined;
  }
}
