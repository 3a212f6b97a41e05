import { readFileSync } from 'node:fs';
import { expect } from 'chai';

/** Every setting the code reads is in the README's configuration table, and the table names no setting the code ignores. */
describe('README configuration table', () => {
  const config = readFileSync('src/config.ts', 'utf8');
  const readme = readFileSync('README.md', 'utf8');
  const read = new Set([...config.matchAll(/(?:env\.|\(env, |env\[)'?([A-Z][A-Z0-9_]{2,})'?/g)].map((m) => m[1]!));
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const documented = new Set([...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));

  it('documents every environment variable the gateway reads', () => {
    expect([...read].filter((v) => !documented.has(v))).to.deep.equal([]);
  });

  it('documents no variable the gateway does not read', () => {
    expect([...documented].filter((v) => !read.has(v))).to.deep.equal([]);
  });
});
