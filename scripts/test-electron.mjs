// Runs test/electron/suite.ts in a downloaded desktop VS Code (needs network access for the
// download; see README). Usage: npm run test:electron
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, '.vscode-test', 'suite', 'index.js');
await esbuild.build({ entryPoints: [path.join(root, 'test/electron/suite.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', external: ['vscode'] });
await runTests({
  version: '1.100.3',
  extensionDevelopmentPath: root,
  extensionTestsPath: out,
  launchArgs: [path.join(root, 'test/fixtures/chunking'), '--disable-extensions'],
});
