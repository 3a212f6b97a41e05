import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { CdaSchemaValidator, defaultCdaSchemaDir } from '../../src/cda/schema.js';

const OFFICIAL_DIR = path.resolve(process.cwd(), '../shared/schemas/cda');

/** A minimal valid CDA R2 document; `narrative` pads the section text (for the memory test). */
function cda(opts: { title?: string; narrative?: string; prolog?: string; rootAttrs?: string } = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${opts.prolog ?? ''}
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"${opts.rootAttrs ?? ''}>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1.1" extension="DOC-1"/>
  <code code="11490-0" codeSystem="2.16.840.1.113883.6.1" displayName="Lettre de liaison"/>
  ${opts.title ?? '<title>Lettre de liaison</title>'}
  <effectiveTime value="20240105101500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.8" extension="1234567890123"/></patientRole></recordTarget>
  <author><time value="20240105"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="801234567890"/></assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.71.4.2.2" extension="1234"/></representedCustodianOrganization></assignedCustodian></custodian>
  <component><structuredBody><component><section>
    <title>Motif</title>
    <text>${opts.narrative ?? 'Patient adressé pour bilan.'}</text>
  </section></component></structuredBody></component>
</ClinicalDocument>
`;
}

describe('CdaSchemaValidator (libxml2-wasm, our CDA R2 schemas)', function () {
  this.timeout(120_000);
  let validator: CdaSchemaValidator;

  before(async () => {
    validator = await CdaSchemaValidator.load();
  });
  after(() => validator.dispose());

  it('finds our schema set next to the sources (schemas/cda/cda.xsd)', () => {
    const root = fileURLToPath(new URL('../../schemas/cda/', import.meta.url));
    expect(path.resolve(defaultCdaSchemaDir())).to.equal(path.resolve(root));
    expect(validator.rootPath).to.equal(path.join(path.resolve(root), 'cda.xsd'));
  });

  it('ships generated XSDs that match their tables (classes.txt, pharmacy.txt, vocabulary.txt)', () => {
    const out = execFileSync(process.execPath, [path.join(defaultCdaSchemaDir(), 'generate.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).to.contain('up to date');
  });

  it('accepts a valid CDA R2 document with no issues', () => {
    expect(validator.validate(Buffer.from(cda()))).to.deep.equal([]);
  });

  it('reports a schema error with line, column, element path and the schema message', () => {
    const issues = validator.validate(Buffer.from(cda({ title: '<titre>Lettre</titre>' })));
    expect(issues).to.have.length(1);
    const [issue] = issues;
    expect(issue).to.include({ line: 6, column: 3, path: '/ClinicalDocument/titre[1]' });
    expect(issue?.message).to.match(/Element '\{urn:hl7-org:v3\}titre': This element is not expected/);
  });

  it('gives the path of a nested element with its position among same-named siblings', () => {
    const bad = cda().replace('<recordTarget><patientRole>', '<recordTarget><patientRole classCode="NOT_A_CODE">');
    const [issue] = validator.validate(Buffer.from(bad));
    expect(issue?.path).to.equal('/ClinicalDocument/recordTarget[1]/patientRole[1]');
    expect(issue?.line).to.equal(9);
    expect(issue?.message).to.match(/attribute 'classCode'/);
  });

  it('reports every problem of a document, not only the first', () => {
    const bad = cda({ title: '<titre>x</titre>' }).replace('<effectiveTime value="20240105101500+0100"/>', '<effectiveTime value="2024-01-05"/>');
    expect(validator.validate(Buffer.from(bad)).length).to.be.at.least(1);
    const twoPlaces = cda().replace('<time value="20240105"/>', '<time value="yesterday"/>').replace('code="N"', 'code="N" bogus="1"');
    expect(validator.validate(Buffer.from(twoPlaces))).to.have.length(2);
  });

  it('reports malformed XML as an issue with the parser position', () => {
    const issues = validator.validate(Buffer.from(cda().replace('</custodian>', '</custodianX>')));
    expect(issues.length).to.be.greaterThan(0);
    expect(issues[0]?.line).to.be.greaterThan(1);
    expect(issues[0]?.message).to.match(/mismatch|end tag/i);
  });

  it('refuses a DOCTYPE (internal entities, external entities) before parsing anything', () => {
    const bomb = cda({
      prolog: '\n<!DOCTYPE ClinicalDocument [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
      narrative: '&b;',
    });
    const xxe = cda({ prolog: '\n<!-- note -->\n<!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]>', narrative: '&x;' });
    for (const doc of [bomb, xxe]) {
      const issues = validator.validate(Buffer.from(doc));
      expect(issues).to.have.length(1);
      expect(issues[0]?.message).to.match(/DOCTYPE is not allowed/);
    }
  });

  it('does not expand an undeclared entity reference (it is an XML error, not a lookup)', () => {
    const issues = validator.validate(Buffer.from(cda({ narrative: 'x &passwd; y' })));
    expect(issues.length).to.be.greaterThan(0);
    expect(issues[0]?.message).to.match(/Entity 'passwd' not defined/);
  });

  it('never touches the network: schemaLocation hints, external DTDs and imported schemas are not fetched', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cda-schema-net-'));
    try {
      const hinted = cda({ rootAttrs: ` xsi:schemaLocation="urn:hl7-org:v3 ${url}/CDA.xsd"` });
      expect(validator.validate(Buffer.from(hinted))).to.deep.equal([]);
      validator.validate(Buffer.from(cda({ prolog: `\n<!DOCTYPE ClinicalDocument SYSTEM "${url}/cda.dtd">` })));
      writeFileSync(
        path.join(dir, 'remote.xsd'),
        `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x"><xs:import namespace="urn:y" schemaLocation="${url}/y.xsd"/><xs:element name="a"/></xs:schema>`,
      );
      const remote = await CdaSchemaValidator.load(dir, 'remote.xsd').catch(() => null);
      remote?.dispose();
      expect(requests).to.equal(0);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compiles the schema once: validation keeps working after the schema files are gone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cda-schema-once-'));
    cpSync(defaultCdaSchemaDir(), dir, { recursive: true });
    const own = await CdaSchemaValidator.load(dir);
    try {
      rmSync(dir, { recursive: true, force: true });
      expect(own.validate(Buffer.from(cda()))).to.deep.equal([]);
      expect(own.validate(Buffer.from(cda({ title: '<titre/>' })))).to.have.length(1);
    } finally {
      own.dispose();
    }
  });

  it('keeps memory flat over 10,000 validations of valid and invalid documents', () => {
    const narrative = '<paragraph>Compte rendu détaillé de la consultation, examen clinique normal.</paragraph>'.repeat(200);
    const valid = Buffer.from(cda({ narrative }));
    const invalid = Buffer.from(cda({ narrative, title: '<titre/>' }));
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) validator.validate(i % 2 ? invalid : valid);
    };
    run(500);
    globalThis.gc?.();
    const before = process.memoryUsage();
    run(10_000);
    globalThis.gc?.();
    const after = process.memoryUsage();
    const growthMb = (after.rss - before.rss) / 1024 / 1024;
    const heapGrowthMb = (after.heapUsed - before.heapUsed) / 1024 / 1024;
    // one leaked parse of this ~20 KB document is >100 KB of wasm memory: a leak would be gigabytes here
    expect(growthMb, `rss grew ${growthMb.toFixed(1)} MB`).to.be.below(48);
    expect(heapGrowthMb, `heap grew ${heapGrowthMb.toFixed(1)} MB`).to.be.below(48);
  });

  it('refuses to be used after dispose()', async () => {
    const own = await CdaSchemaValidator.load();
    own.dispose();
    expect(() => own.validate(Buffer.from(cda()))).to.throw(/after dispose/);
  });

  it('fails to load from a directory without a root schema, naming the directory', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cda-schema-empty-'));
    try {
      let error: unknown;
      await CdaSchemaValidator.load(dir).catch((e: unknown) => (error = e));
      expect(String(error)).to.contain(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads CDA_SCHEMA_DIR and CDA_SCHEMA_ROOT from the environment (unset = our own schemas)', () => {
    expect(loadConfig({}).cdaSchemaDir).to.equal(undefined);
    const cfg = loadConfig({ CDA_SCHEMA_DIR: '../shared/schemas/cda', CDA_SCHEMA_ROOT: 'CDA_extended.xsd' });
    expect(cfg.cdaSchemaDir).to.equal(path.resolve('../shared/schemas/cda'));
    expect(cfg.cdaSchemaRoot).to.equal('CDA_extended.xsd');
  });

  it('validates with an external schema set (the official CDA_extended.xsd) when given one', async function () {
    if (!existsSync(path.join(OFFICIAL_DIR, 'CDA_extended.xsd'))) {
      console.log(`    (skipped: official CDA schemas not found at ${OFFICIAL_DIR})`);
      this.skip();
    }
    const official = await CdaSchemaValidator.load(OFFICIAL_DIR, 'CDA_extended.xsd');
    try {
      expect(official.validate(Buffer.from(cda()))).to.deep.equal([]);
      const [issue] = official.validate(Buffer.from(cda({ title: '<titre>Lettre</titre>' })));
      expect(issue).to.include({ line: 6, column: 3, path: '/ClinicalDocument/titre[1]' });
    } finally {
      official.dispose();
    }
  });
});
