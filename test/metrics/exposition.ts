/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line must be a HELP or TYPE
 * comment or a sample of a declared family, label values escaped, values numbers. Throws on the
 * first line that is not, so a test that reads a scrape also proves it parses.
 */
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** Value of the sample with exactly these labels, undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of this name. */
  all(name: string): Sample[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count', ''], counter: [''], gauge: [''], untyped: [''] };

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}: ${line.slice(0, 200)}`;
      if (line === '') return;
      if (line.startsWith('#')) {
        const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
        if (!m) throw new Error(`malformed comment at ${where}`);
        if (m[1] === 'TYPE') {
          if (!TYPES.has(m[3]!)) throw new Error(`unknown type at ${where}`);
          if (types.has(m[2]!)) throw new Error(`family declared twice at ${where}`);
          types.set(m[2]!, m[3]!);
        } else {
          helps.add(m[2]!);
        }
        return;
      }
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`malformed sample at ${where}`);
      const [, name, labelText, valueText] = m;
      if (!familyOf(name!, types)) throw new Error(`sample of an undeclared family at ${where}`);
      const value = numberOf(valueText!);
      if (value === undefined) throw new Error(`value is not a number at ${where}`);
      samples.push({ name: name!, labels: parseLabels(labelText ?? '', where), value });
    });
  const key = (name: string, labels: Record<string, string>) => `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
  const index = new Map(samples.map((s) => [key(s.name, s.labels), s.value]));
  return {
    types,
    samples,
    value: (name, labels = {}) => index.get(key(name, labels)),
    all: (name) => samples.filter((s) => s.name === name),
  };
}

/** Go's ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes `Nan`). */
function numberOf(text: string): number | undefined {
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  for (const [family, type] of types) {
    for (const suffix of SUFFIXES[type]!) if (name === family + suffix) return family;
  }
  return undefined;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`malformed labels at ${where}`);
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice at ${where}`);
    labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}
