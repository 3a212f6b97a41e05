#!/usr/bin/env node
// Launcher of the xdsgw command-line client: the compiled build when there is one (npm run build),
// else the TypeScript sources through tsx, in this same process (so that Ctrl-C reaches the client).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const built = new URL('../dist/src/cli/xdsgw.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/xdsgw.ts', import.meta.url).href);
}
