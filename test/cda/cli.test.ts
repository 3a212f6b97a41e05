import { spawnSync } from 'node:child_process';
import { expect } from 'chai';

function validate(...files: string[]): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/validate.ts', ...files], { encoding: 'utf8', env: { ...process.env, INIT_CWD: process.cwd() } });
  return { status: r.status, lines: r.stdout.split('\n').filter(Boolean) };
}

describe('npm run validate', function () {
  this.timeout(60_000);

  it('prints VALID with the document type for each valid file and exits 0', () => {
    const { status, lines } = validate('samples/cda/vac.xml', 'samples/cda/cr-img.xml');
    expect(status).to.equal(0);
    expect(lines.filter((l) => !l.startsWith(' '))).to.deep.equal(['VALID samples/cda/vac.xml (VAC)', 'VALID samples/cda/cr-img.xml (CR-IMG)']);
  });

  it('prints INVALID followed by the errors and exits 1 when any file is invalid', () => {
    const { status, lines } = validate('samples/cda/vac.xml', 'samples/cda/broken/vac-without-immunization-entries.xml');
    expect(status).to.equal(1);
    const at = lines.indexOf('INVALID samples/cda/broken/vac-without-immunization-entries.xml (VAC)');
    expect(at).to.be.greaterThan(0);
    expect(lines[at + 1]).to.match(/^ {2}error: line \d+ \(\/ClinicalDocument\/component\/structuredBody\/component\/section\): VAC: section "Vaccinations" .* has no entry with templateId 1\.3\.6\.1\.4\.1\.19376\.1\.5\.3\.1\.4\.12$/);
  });

  it('reports a file it cannot read as INVALID', () => {
    const { status, lines } = validate('samples/cda/no-such-file.xml');
    expect(status).to.equal(1);
    expect(lines[0]).to.equal('INVALID samples/cda/no-such-file.xml');
    expect(lines[1]).to.match(/^ {2}error: cannot read the file/);
  });

  it('exits 2 with a usage line when no file is given', () => {
    expect(validate().status).to.equal(2);
  });
});
