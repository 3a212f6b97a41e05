import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { CdaSchemaValidator, defaultCdaSchemaDir, type SchemaIssue } from '../../src/cda/schema.js';
import { mutate, seedOf, withExtensions, MUTATION_KINDS, type MutationKind } from './mutations.js';

const OFFICIAL_DIR = path.resolve(process.cwd(), '../shared/schemas/cda');
const OFFICIAL_ROOT = 'CDA_extended.xsd';
const SAMPLE_DIRS = [path.resolve(process.cwd(), '../shared/samples/cda'), path.resolve(process.cwd(), 'samples/cda')];
const MIN_MUTATIONS = 300;
/** Mutations generated in all, spread evenly over the samples (the requirement is MIN_MUTATIONS). */
const TARGET_MUTATIONS = 640;

/** The reference and project samples, plus each one carrying the sdtc:/pharm:/lab:/dicom: extension elements. */
function samples(): { name: string; xml: string }[] {
  const plain = SAMPLE_DIRS.filter((d) => existsSync(d)).flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.xml'))
      .sort()
      .map((f) => ({ name: path.join(path.basename(path.dirname(d)), path.basename(d), f), xml: readFileSync(path.join(d, f), 'utf8') })),
  );
  const extended = plain.flatMap((s) => {
    const xml = withExtensions(s.xml);
    return xml ? [{ name: `${s.name}+extensions`, xml }] : [];
  });
  return [...plain, ...extended];
}

/** Local name of the element the first error is about, taken from its path. */
function firstElement(issues: SchemaIssue[]): string {
  const last = issues[0]?.path.split('/').pop() ?? '';
  return last.replace(/\[\d+\]$/, '').replace(/^.*:/, '');
}

describe('CDA schemas: same verdict as the official HL7 CDA R2 schemas', function () {
  this.timeout(600_000);
  let official: CdaSchemaValidator;
  let ours: CdaSchemaValidator;

  before(async function () {
    if (!existsSync(path.join(OFFICIAL_DIR, OFFICIAL_ROOT))) {
      console.log(`    (skipped: official CDA schemas not found at ${OFFICIAL_DIR})`);
      this.skip();
    }
    official = await CdaSchemaValidator.load(OFFICIAL_DIR, OFFICIAL_ROOT);
    ours = await CdaSchemaValidator.load(defaultCdaSchemaDir());
  });

  after(() => {
    official?.dispose();
    ours?.dispose();
  });

  it('agrees on every reference and project sample document, with and without extension elements', () => {
    const all = samples();
    expect(all.length).to.be.greaterThan(0);
    const disagreements = all
      .map((s) => {
        const buf = Buffer.from(s.xml);
        return { name: s.name, official: official.validate(buf), ours: ours.validate(buf) };
      })
      .filter((r) => (r.official.length === 0) !== (r.ours.length === 0))
      .map((r) => `${r.name}: official ${r.official.length ? 'INVALID ' + r.official[0]?.message : 'VALID'}, ours ${r.ours.length ? 'INVALID ' + r.ours[0]?.message : 'VALID'}`);
    expect(disagreements, disagreements.join('\n')).to.deep.equal([]);
  });

  it(`agrees on at least ${MIN_MUTATIONS} seeded broken variants of the samples (every mutation kind)`, () => {
    const all = samples();
    const perSample = Math.ceil(TARGET_MUTATIONS / all.length);
    const byKind = new Map<MutationKind, { total: number; invalid: number }>(MUTATION_KINDS.map((k) => [k, { total: 0, invalid: 0 }]));
    const disagreements: string[] = [];
    let total = 0;
    let sameFirstElement = 0;
    let bothInvalid = 0;
    for (const s of all) {
      for (const m of mutate(s.xml, seedOf(s.name), perSample)) {
        const buf = Buffer.from(m.xml);
        const o = official.validate(buf);
        const u = ours.validate(buf);
        total++;
        const stats = byKind.get(m.kind);
        if (stats) {
          stats.total++;
          if (o.length) stats.invalid++;
        }
        if ((o.length === 0) !== (u.length === 0)) {
          disagreements.push(
            `${s.name} [${m.kind}] ${m.description}: official ${o.length ? 'INVALID ' + o[0]?.message : 'VALID'}; ours ${u.length ? 'INVALID ' + u[0]?.message : 'VALID'}`,
          );
        } else if (o.length) {
          bothInvalid++;
          if (firstElement(o) === firstElement(u)) sameFirstElement++;
        }
      }
    }
    const kinds = [...byKind].map(([k, v]) => `${k} ${v.total} (${v.invalid} invalid)`).join(', ');
    console.log(
      `    ${all.length} samples x ${perSample} = ${total} mutations; verdicts agree on ${total - disagreements.length}/${total}; ` +
        `first error on the same element in ${sameFirstElement}/${bothInvalid} invalid ones\n    kinds: ${kinds}`,
    );
    expect(total).to.be.at.least(MIN_MUTATIONS);
    for (const k of MUTATION_KINDS) expect(byKind.get(k)?.total, k).to.be.greaterThan(0);
    expect(disagreements, disagreements.slice(0, 20).join('\n')).to.deep.equal([]);
  });
});
