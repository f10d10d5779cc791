import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { resolveInsideRoot } from '../../src/core/util/containment';
import { termSafe } from '../../src/cli/format';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { hasStackTrace, runCli, tally } from './tally';

describe('jump-to-source path containment (src/core/util/containment.ts, used by src/vscode/jump.ts)', () => {
  it('refuses .., absolute paths, drive letters, UNC, backslashes, NUL and symlinks leaving the workspace', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-jump-');
    try {
      const root = path.join(dir, 'ws');
      writeTree(root, { 'src/a.ts': 'a\n', 'docs/b.md': 'b\n' });
      writeTree(dir, { 'outside.txt': 'secret\n', 'ws-evil/x.ts': 'x\n' });
      symlinkSync(path.join(dir, 'outside.txt'), path.join(root, 'src/link-out.ts'));
      symlinkSync(dir, path.join(root, 'dir-out'));
      symlinkSync('../src/a.ts', path.join(root, 'docs/link-in.ts'));
      symlinkSync('loop', path.join(root, 'loop'));
      const refused = [
        '../outside.txt',
        'src/../../outside.txt',
        '..',
        '/etc/passwd',
        path.join(dir, 'outside.txt'),
        'C:/Windows/win.ini',
        'c:relative',
        '\\\\server\\share\\x',
        'src\\..\\..\\outside.txt',
        'src/a.ts\0.png',
        'src/link-out.ts',
        'dir-out/outside.txt',
        'dir-out/ws-evil/x.ts',
        '../ws-evil/x.ts',
        'loop',
        'src',
        '',
        'src/missing.ts',
        '%2e%2e/outside.txt',
        'src/%2e%2e/%2e%2e/outside.txt',
      ];
      let survived = 0;
      const opened: string[] = [];
      for (const p of refused) {
        const r = await resolveInsideRoot(root, p);
        if ('error' in r) survived++;
        else opened.push(`${JSON.stringify(p)} → ${r.path}`);
      }
      for (const ok of ['src/a.ts', './src/a.ts', 'src//a.ts', 'docs/link-in.ts']) {
        const r = await resolveInsideRoot(root, ok);
        assert.ok('path' in r, `${ok}: ${'error' in r ? r.error : ''}`);
      }
      const r = await resolveInsideRoot(root, '../outside.txt');
      assert.match('error' in r ? r.error : '', /outside the workspace/);
      tally({ area: 'jump-to-source', payloadsTried: refused.length, payloadsExecuted: refused.length - survived });
      assert.deepEqual(opened, []);
    } finally {
      cleanup();
    }
  });
});

describe('payloads in files, names and LLM output never change how the CLI behaves', () => {
  it('no command runs, no terminal control sequence reaches the terminal, JSON keeps the text', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-payload-');
    const server = new OpenAiTestServer();
    await server.start();
    try {
      const root = path.join(dir, 'repo');
      const canaryDir = path.join(dir, 'canaries');
      mkdirSync(canaryDir);
      const touch = (n: number) => `touch ${path.join(canaryDir, `PWNED-${n}`)}`;
      const payloads = [
        `$(${touch(1)})`,
        `\`${touch(2)}\``,
        `; ${touch(3)};`,
        `| ${touch(4)}`,
        `<script>require('fs').writeFileSync(${JSON.stringify(path.join(canaryDir, 'PWNED-5'))}, '')</script>`,
        `<img src=x onerror="require('child_process').execSync('${touch(6)}')">`,
        `[click](javascript:require('child_process').execSync('${touch(7)}'))`,
        `[run](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22${encodeURIComponent(touch(8))}%5Cn%22%7D)`,
        `&lt;script&gt;alert(1)&lt;/script&gt; &#x3C;img src=x onerror=alert(1)&#x3E;`,
        `\${process.mainModule.require('child_process').execSync('${touch(9)}')}`,
        `{{constructor.constructor('return process')().mainModule.require('child_process').execSync('${touch(10)}')}}`,
        '\x1b]52;c;cHduZWQ=\x07', // OSC 52: write the clipboard
        '\x1b]0;PWNED title\x07', // retitle the terminal
        '\x1b[2J\x1b[H', // clear the screen
        '\x1b]8;;https://evil.example/\x07innocent link\x1b]8;;\x07',
        'safe text\roverwritten',
        '\u202eRTL override txt.exe',
        '\x9b31m C1 CSI',
      ];
      const files: Record<string, string> = {};
      payloads.forEach((p, i) => {
        files[`src/payload${i}.ts`] = `// upload payload handler ${i}\nexport const payload${i} = ${JSON.stringify(p)};\n// raw: ${p}\n`;
      });
      files['README.md'] = `# Upload payloads\n\n${payloads.join('\n\n')}\n`;
      files[`names/${'$(touch PWNED-name)'}.ts`] = 'export const n = 1;\n';
      writeTree(root, files);
      const models = ['--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', path.join(dir, 'idx')];
      // The LLM answers with every payload too.
      server.script = [{ kind: 'answer', text: `Upload payloads [1]:\n\n${payloads.join('\n')}\n`, pieces: 9 }];
      const env = { OPENAI_BASE_URL: server.baseURL };
      const human = await runCli(['ask', root, 'upload payload handler', ...models, '--llm-model', 'm', '--top', '20', '--token-budget', '50000'], env, { cwd: dir });
      const compare = await runCli(['ask', root, 'upload payload handler', ...models, '--llm-model', 'm', '--compare'], env, { cwd: dir });
      const noLlm = await runCli(['ask', root, 'upload payload handler', ...models, '--top', '20'], {}, { cwd: dir });
      const json = await runCli(['ask', root, 'upload payload handler', ...models, '--llm-model', 'm', '--json'], env, { cwd: dir });
      for (const r of [human, compare, noLlm, json]) {
        assert.equal(r.code, 0, r.stderr);
        assert.ok(!hasStackTrace(r.stderr), r.stderr);
      }
      // Human output: no terminal control characters at all (ESC, BEL, CR, C1, bidi overrides).
      // eslint-disable-next-line no-control-regex
      const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
      const reachedTerminal = [human, compare, noLlm].filter((r) => controls.test(r.stdout) || controls.test(r.stderr)).length;
      // JSON output keeps the exact text (escaped), so tools see what the LLM said.
      const parsed = JSON.parse(json.stdout) as { answer: string };
      assert.ok(parsed.answer.includes('\x1b]52;c;'), 'JSON keeps the raw answer');
      const pwned = readdirSync(canaryDir).concat(readdirSync(dir).filter((n) => n.startsWith('PWNED')));
      tally({ area: 'payloads (CLI)', payloadsTried: payloads.length * 2 + 1, payloadsExecuted: pwned.length + reachedTerminal });
      assert.deepEqual(pwned, []);
      assert.equal(reachedTerminal, 0, `control characters reached the terminal:\n${JSON.stringify(human.stdout.slice(0, 2000))}`);
      assert.match(human.stdout, /␛\]52;c;/, 'shown visibly instead');
      assert.equal(termSafe('a\r\nb\x1b[0m\u202e'), 'a\nb␛[0m\ufffd');
    } finally {
      await server.stop();
      cleanup();
    }
  });
});
