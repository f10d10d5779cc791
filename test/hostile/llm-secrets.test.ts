import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AskContext, ask } from '../../src/core/answer/ask';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { redactSecrets } from '../../src/core/llm/llm';
import { TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { type Behaviour, OpenAiTestServer } from '../support/openaiServer';
import { hasStackTrace, runCli, tally } from './tally';

const API_KEY = 'sk-proj-HOSTILEtestKEY0123456789abcdef';
const ODD_KEY = 'plain-token-without-prefix-77aa';

/** One unique canary per secret file: none may ever reach the index or the LLM. */
const SECRET_FILES: Record<string, string> = {
  '.env': 'OPENAI_API_KEY=CANARY-dotenv-1\n',
  '.env.production': 'DB_URL=postgres://admin:CANARY-dotenv-2@db/prod\n',
  'config/.env.local': 'TOKEN=CANARY-dotenv-3\n',
  'id_rsa': '-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY-idrsa\n-----END OPENSSH PRIVATE KEY-----\n',
  'id_ed25519.pub': 'ssh-ed25519 AAAAC3 CANARY-pub user@host\n',
  'credentials.json': '{"installed":{"client_secret":"CANARY-credentials"}}\n',
  'deploy/server.pem': '-----BEGIN CERTIFICATE-----\nCANARY-pem\n-----END CERTIFICATE-----\n',
  'deploy/tls.key': 'CANARY-tlskey\n',
  'home/.aws/credentials': '[default]\naws_secret_access_key = CANARY-aws\n',
  'home/.kube/config': 'users:\n- name: admin\n  user:\n    token: CANARY-kube\n',
  '.npmrc': '//registry.npmjs.org/:_authToken=CANARY-npmrc\n',
  'infra/terraform.tfstate': '{"outputs":{"pw":"CANARY-tfstate"}}\n',
  'gcp/service-account-prod.json': '{"private_key":"CANARY-gcp"}\n',
  '.streamlit/secrets.toml': 'password = "CANARY-streamlit"\n',
  '.git-credentials': 'https://user:CANARY-gitcred@github.com\n',
  // variants of the same families
  '.env-local': 'API_KEY=CANARY-dotenv-4\n',
  '.env_production': 'SECRET=CANARY-dotenv-5\n',
  'config/config.env.local': 'TOKEN=CANARY-dotenv-6\n',
  '.envs/.production/.postgres': 'POSTGRES_PASSWORD=CANARY-envs\n',
  'credentials.toml': '[registry]\ntoken = "CANARY-credtoml"\n',
  '.my.cnf': '[client]\npassword=CANARY-mycnf\n',
  'auth/token.json': '{"refresh": "CANARY-tokenjson"}\n',
  '.config/rclone/rclone.conf': '[s3]\nsecret_access_key = CANARY-rclone\n',
  'config/secret.yml': 'key: CANARY-secretyml\n',
  'web/htpasswd': 'admin:CANARY-htpasswd\n',
  'pgpass.conf': 'db:5432:*:app:CANARY-pgpass\n',
  'k8s/secrets/db.yaml': 'data:\n  pw: CANARY-k8ssecret\n',
};

/** Keys pasted into ordinary source files: indexed, but redacted before anything goes to the LLM. */
const EMBEDDED_SECRETS = [
  'AKIAZZZZZZZZZZZZZZZZ',
  'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij',
  'glpat-ABCDEFGHIJ0123456789xy',
  'xoxb-123456789012-abcdefghijkl',
  'AIzaSyA-abcdefghijklmnopqrstuvwxyz01234',
  'sk_live_ABCDEFGHIJKLMNOPQRSTUVWX',
  'npm_ABCDEFGHIJabcdefghij0123456789ABCDEF',
  'hunter2-but-longer',
  'KEYBODYLINE',
];

/**
 * Secrets written in the common config and code syntaxes, in indexed files: [path, text]. Every
 * value containing `LEAK` is a planted secret; none may reach the index on disk or the LLM.
 */
const SYNTAX_FILES: [string, string][] = [
  ['deploy/app.properties', 'spring.datasource.password=LEAKprops1\nmail.smtp.password: LEAKprops2\n'],
  ['deploy/settings.ini', '[upload]\npassword = LEAKini3\napi_key: LEAKini4\n'],
  ['deploy/compose.yaml', 'services:\n  upload:\n    environment:\n      UPLOAD_TOKEN: LEAKyaml5\n      DB_PASSWORD: ${DB_PASSWORD:-LEAKyaml6}\n'],
  ['deploy/upload.toml', '[upload]\nclient_secret = "LEAKtoml7"\n'],
  ['deploy/start.sh', '#!/bin/sh\nexport UPLOAD_API_KEY=LEAKsh8\ncurl -u upload:LEAKsh9 https://upload.example.com\n'],
  ['deploy/Web.config', '<appSettings>\n  <add key="UploadApiKey" value="LEAKxml10"/>\n  <password>LEAKxml11</password>\n</appSettings>\n<connectionStrings><add name="u" connectionString="Server=db;User Id=sa;Password=LEAKxml12;"/></connectionStrings>\n'],
  ['src/upload/client.ts', [
    '// upload client configuration',
    'const uploadUrl = "https://upload.example.com/v1?token=LEAKquery13&api_key=LEAKquery14";',
    'const cache = "redis://:LEAKurl15@cache:6379/0";',
    'const headers = { Authorization: "Bearer LEAKbearer16x", "X-Api-Key": "LEAKhdr17" };',
    'const basic = "Basic TEVBS2Jhc2ljMTg6eA==";',
    'export const uploadApiKey = process.env.UPLOAD_API_KEY ?? "LEAKdefault19";',
    'export const uploadOptions = { password: "LEAKobj20", retries: 3 };',
    '',
  ].join('\n')],
  ['src/upload/settings.py', 'SECRET_KEY = "LEAKpy21"\nUPLOAD_PASSWORD = os.environ.get("UPLOAD_PASSWORD", "LEAKpy22")\nclient = Upload(user="u", password="LEAKpy23")\n'],
  ['src/upload/Upload.java', 'class Upload {\n  void init() { ds.setPassword("LEAKjava24"); }\n  private static final String CLIENT_SECRET = "LEAKjava25";\n}\n'],
  ['src/upload/upload.go', 'package upload\nvar cfg = Config{Password: "LEAKgo26", APIKey: "LEAKgo27"}\n'],
  ['src/upload/Upload.cs', 'var conn = "Data Source=db;User ID=sa;Pwd=LEAKcs28;";\n'],
  ['docs/upload.md', 'Upload with `curl -H "Authorization: Bearer LEAKmd29x" https://upload.example.com`\n'],
];

/** A private key written as a list of quoted string lines, long enough to span several chunks. */
function quotedKeyFile(): string {
  const lines = Array.from({ length: 50 }, (_, i) => `  "LEAKQUOTEDKEY${String(i).padStart(2, '0')}${'Ab9+'.repeat(12)}",`);
  return `// upload signing key (PKCS#8)\nexport const uploadKeyLines = [\n  "-----BEGIN PRIVATE KEY-----",\n${lines.join('\n')}\n  "-----END PRIVATE KEY-----",\n];\n`;
}

function sourceRepo(): Record<string, string> {
  const keyLines = Array.from({ length: 150 }, (_, i) => `KEYBODYLINE${String(i).padStart(3, '0')}${'A'.repeat(52)}`);
  return {
    ...SECRET_FILES,
    'src/upload/retry.ts': 'export async function retryUpload(file: string, attempts = 5) {\n  for (let i = 0; i < attempts; i++) {\n    if (await send(file)) return true;\n  }\n  return false;\n}\n',
    'src/cloud/config.ts': [
      '// cloud configuration for the upload service',
      `export const awsAccessKeyId = "${EMBEDDED_SECRETS[0]}";`,
      `export const githubToken = "${EMBEDDED_SECRETS[1]}";`,
      `export const gitlabToken = "${EMBEDDED_SECRETS[2]}";`,
      `export const slack = "${EMBEDDED_SECRETS[3]}";`,
      `export const google = "${EMBEDDED_SECRETS[4]}";`,
      `export const stripe = "${EMBEDDED_SECRETS[5]}";`,
      `export const npmToken = "${EMBEDDED_SECRETS[6]}";`,
      `export const dbPassword = "${EMBEDDED_SECRETS[7]}";`,
      `export const password = "${EMBEDDED_SECRETS[7]}";`,
      'export const mirror = "https://deploy:s3cr3tpassw0rd@mirror.example.com/upload";',
      '',
    ].join('\n'),
    // A key block long enough to be split over several chunks (upload signing key).
    'src/cloud/signing.ts': `// upload signing key\nexport const uploadSigningKey = \`-----BEGIN RSA PRIVATE KEY-----\n${keyLines.join('\n')}\n-----END RSA PRIVATE KEY-----\`;\n`,
    'src/cloud/keyLines.ts': quotedKeyFile(),
    ...Object.fromEntries(SYNTAX_FILES),
  };
}

function grepTree(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    const text = readFileSync(full, 'latin1');
    for (const n of needles) if (text.includes(n)) hits.push(`${full}: ${n}`);
  }
  return hits;
}

describe('secrets and LLM faults', () => {
  let server: OpenAiTestServer;
  let dir: string;
  let cleanup: () => void;
  let root: string;
  const models = () => ['--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', path.join(dir, 'idx')];
  const wide = ['--top', '30', '--token-budget', '100000', '--candidates', '200'];

  before(async () => {
    ({ dir, cleanup } = tempDir('sift-hostile-llm-'));
    root = path.join(dir, 'repo');
    writeTree(root, sourceRepo());
    server = new OpenAiTestServer();
    await server.start();
  });
  after(async () => {
    await server.stop();
    cleanup();
  });

  it('secret files are never indexed or sent; keys inside indexed files are redacted at index time; the API key never leaks', async () => {
    const idx = await runCli(['index', root, '--json', '--embedding-model', TINY_EMBEDDER, '--offline', '--index-dir', path.join(dir, 'idx')]);
    assert.equal(idx.code, 0, idx.stderr);
    const summary = JSON.parse(idx.stdout) as { files: { indexed: string[]; skipped: { path: string; reason: string }[] } };
    const reasons = new Map(summary.files.skipped.map((s) => [s.path, s.reason]));
    // The file, or a secret folder holding it, is skipped as `secret`.
    const notSkipped = Object.keys(SECRET_FILES).filter((p) => !p.split('/').some((_, i, parts) => reasons.get(parts.slice(0, i + 1).join('/')) === 'secret'));
    assert.deepEqual(notSkipped, [], 'secret files not skipped as secret');
    const canaries = Object.values(SECRET_FILES).map((t) => /CANARY-[a-z0-9]+/.exec(t)![0]);
    assert.deepEqual(grepTree(path.join(dir, 'idx'), canaries), [], 'secret file content in the index');
    // Secrets inside indexed files are redacted when the file is indexed: not in chunks.bin either.
    const syntaxSecrets = [...new Set(SYNTAX_FILES.flatMap(([, t]) => t.match(/LEAK[A-Za-z]+\d+x?|TEVBS2Jhc2ljMTg6eA==/g) ?? []))];
    const keyLineSecrets = Array.from({ length: 50 }, (_, i) => `LEAKQUOTEDKEY${String(i).padStart(2, '0')}`);
    const plantedInIndexed = [...EMBEDDED_SECRETS, ...syntaxSecrets, ...keyLineSecrets, 's3cr3tpassw0rd'];
    const onDisk = grepTree(path.join(dir, 'idx'), plantedInIndexed);

    server.script = [{ kind: 'answer', text: 'See [1].' }];
    server.requests.length = 0;
    const questions = [
      'upload signing key',
      'cloud configuration tokens password',
      'retry upload attempts',
      'aws credentials secret env',
      'upload key lines private key',
      'upload password api key token secret settings',
      'upload client headers authorization cache',
      'datasource smtp password connection string',
    ];
    const outputs: string[] = [];
    for (const q of questions) {
      const r = await runCli(['ask', root, q, ...models(), ...wide, '--llm-model', 'm', '--json'], { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: API_KEY });
      assert.equal(r.code, 0, r.stderr);
      outputs.push(r.stdout, r.stderr);
    }
    const sent = server.requests.map((q) => JSON.stringify(q.body)).join('\n');
    assert.ok(sent.includes('retryUpload') && sent.includes('uploadSigningKey'), 'the ordinary sources were sent');
    const leakedFiles = canaries.filter((c) => sent.includes(c));
    const leakedKeys = plantedInIndexed.filter((k) => sent.includes(k));
    const secretsLeaked = new Set([...leakedFiles, ...leakedKeys, ...onDisk.map((h) => h.slice(h.lastIndexOf(': ') + 2))]);
    assert.ok(server.requests.every((q) => q.headers.authorization === `Bearer ${API_KEY}`));
    const keyLeaks = grepTree(dir, [API_KEY]).concat(outputs.filter((o) => o.includes(API_KEY)).map(() => 'cli output'));

    // `--no-redact` only turns off the second pass before sending: the index itself holds no secrets.
    const raw = await runCli(['ask', root, 'cloud configuration tokens password', ...models(), ...wide, '--llm-model', 'm', '--json', '--no-redact'], { OPENAI_BASE_URL: server.baseURL });
    assert.equal(raw.code, 0, raw.stderr);
    const rawSent = JSON.stringify(server.requests.at(-1)!.body);
    assert.ok(rawSent.includes('awsAccessKeyId') && rawSent.includes('[REDACTED'), 'the file was sent, redacted at index time');
    for (const k of [...canaries, ...plantedInIndexed]) if (rawSent.includes(k)) secretsLeaked.add(k);

    tally({
      area: 'secrets',
      faultsInjected: canaries.length + EMBEDDED_SECRETS.length + 2,
      faultsSurvived: canaries.length - leakedFiles.length + EMBEDDED_SECRETS.length + 1 - EMBEDDED_SECRETS.filter((k) => leakedKeys.includes(k)).length + (keyLeaks.length ? 0 : 1),
      secretsTried: canaries.length + plantedInIndexed.length + 1, // + the API key
      secretsLeaked: secretsLeaked.size + (keyLeaks.length ? 1 : 0),
    });
    assert.deepEqual(leakedFiles, [], 'secret file content sent to the LLM');
    assert.deepEqual(leakedKeys, [], 'embedded keys sent to the LLM unredacted');
    assert.deepEqual(onDisk, [], 'secrets inside indexed files stored in the index unredacted');
    assert.deepEqual([...secretsLeaked], [], 'secrets leaked with --no-redact');
    assert.deepEqual(keyLeaks, [], 'the API key appeared in output or files');
  });

  it('LLM faults: reset before headers, 429 without Retry-After, key echoes, huge output — CLI stays usable, keeps text, never shows the key', async () => {
    const cases: { name: string; script: Behaviour[]; code: number; stderr: RegExp; env?: Record<string, string> }[] = [
      { name: 'reset before headers', script: [{ kind: 'reset-before-headers' }], code: 3, stderr: /Could not reach the LLM|broke off|connection/i },
      { name: '429 without Retry-After', script: [{ kind: 'status', status: 429 }], code: 3, stderr: /rate-limiting requests \(HTTP 429\), still after retrying/ },
      { name: '401 echoing the key', script: [{ kind: 'status', status: 401, message: `Incorrect API key provided: ${API_KEY}` }], code: 3, stderr: /rejected the API key/ },
      { name: '500 echoing an odd key', script: [{ kind: 'status', status: 500, message: `upstream said Authorization: Bearer ${ODD_KEY}; key=${ODD_KEY}` }], code: 3, stderr: /HTTP 500/, env: { OPENAI_API_KEY: ODD_KEY } },
      { name: 'cut mid-stream after 1 MB', script: [{ kind: 'reset-after', text: 'partial '.repeat(256 * 1024), pieces: 512 }], code: 3, stderr: /broke off|ended early/ },
      { name: 'credentials in the base URL', script: [{ kind: 'status', status: 503 }], code: 3, stderr: /HTTP 503|Could not reach the LLM at http:\/\/127/, env: { OPENAI_BASE_URL: 'CRED' } },
      { name: '2 MB answer', script: [{ kind: 'answer', text: `${'All good [1]. '.repeat(150_000)}`, pieces: 2000 }], code: 0, stderr: /^$|sift:/ },
    ];
    let survived = 0;
    const failures: string[] = [];
    for (const c of cases) {
      server.script = c.script;
      let base = server.baseURL;
      if (c.env?.OPENAI_BASE_URL === 'CRED') base = server.baseURL.replace('http://', 'http://admin:CRED-PASSWORD-x9@');
      const key = c.env?.OPENAI_API_KEY ?? API_KEY;
      // The answer cap (default 200 000 characters, test/hostile/llm-limits.test.ts) is raised so the 2 MB cases test huge output itself.
      const r = await runCli(['ask', root, 'retry upload attempts', ...models(), '--llm-model', 'm', '--no-rerank', '--llm-max-answer-chars', '5000000'], { OPENAI_BASE_URL: base, OPENAI_API_KEY: key });
      const text = r.stdout + r.stderr;
      const problems: string[] = [];
      if (r.code !== c.code) problems.push(`exit ${r.code}`);
      if (!c.stderr.test(r.stderr)) problems.push(`stderr ${r.stderr.slice(0, 300)}`);
      if (text.includes(key) || text.includes('CRED-PASSWORD')) problems.push('secret in output');
      if (hasStackTrace(r.stderr)) problems.push('stack trace');
      if (!/Sources \(/.test(r.stdout)) problems.push('sources not shown');
      if (c.name.startsWith('cut') && !r.stdout.startsWith('partial partial')) problems.push('partial text lost');
      if (c.name.startsWith('2 MB') && r.stdout.length < 2_000_000) problems.push(`answer truncated to ${r.stdout.length}`);
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}`);
      else survived++;
    }
    // Afterwards a normal question works at once (retry works, nothing is left broken).
    server.script = [{ kind: 'answer', text: 'Recovered [1].' }];
    const ok = await runCli(['ask', root, 'retry upload attempts', ...models(), '--llm-model', 'm', '--json'], { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: API_KEY });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).answer, 'Recovered [1].');
    tally({ area: 'llm (CLI)', faultsInjected: cases.length, faultsSurvived: survived });
    assert.deepEqual(failures, []);
    assert.equal(redactSecrets(`x ${ODD_KEY} y`, ODD_KEY), 'x [redacted] y');
  });

  it('ask() in-process: 429 exhausting retries, reset before headers, 2 MB output; the same context keeps working', async () => {
    const client = new InferenceClient(WORKER_SCRIPT);
    try {
      await client.call('configure', { cacheDir: path.join(dir, 'models'), allowRemote: false });
      const indexDir = path.join(dir, 'idx-inproc');
      const gen = indexWorkspace({ root, indexDir, client, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      const store = (await IndexStore.openForRead(indexDir)).store!;
      const ctx: AskContext = { store, embedder: client, settings: { llm: { baseURL: server.baseURL, apiKey: API_KEY, model: 'm', maxRetries: 2, timeoutMs: 10_000, maxAnswerChars: 5_000_000 } } };
      let survived = 0;

      server.requests.length = 0;
      server.script = [{ kind: 'status', status: 429 }];
      const limited = await ask(ctx, 'retry upload', { rerank: false });
      assert.equal(limited.error?.kind, 'rate-limit');
      assert.equal(server.requests.length, 3, 'one request and two retries');
      assert.ok(limited.sources.length > 0);
      survived++;

      server.script = [{ kind: 'reset-before-headers' }];
      const reset = await ask(ctx, 'retry upload', { rerank: false });
      assert.ok(reset.error && ['connection', 'stream-cut'].includes(reset.error.kind), JSON.stringify(reset.error));
      assert.ok(!reset.error.message.includes(API_KEY));
      survived++;

      server.script = [{ kind: 'status', status: 500 }, { kind: 'answer', text: 'Second try [1].' }];
      const retried = await ask(ctx, 'retry upload', { rerank: false });
      assert.equal(retried.answer, 'Second try [1].');
      survived++;

      const huge = 'A long answer about uploads [1]. '.repeat(64 * 1024); // 2 MB
      server.script = [{ kind: 'answer', text: huge, pieces: 4000 }];
      let tokens = 0;
      const big = await ask(ctx, 'retry upload', { rerank: false, onEvent: (e) => e.type === 'token' && tokens++ });
      assert.equal(big.answerKind, 'llm');
      assert.equal(big.answer.length, huge.length);
      assert.ok(tokens >= 1000);
      assert.equal(big.citations[0]?.n, 1);
      survived++;
      tally({ area: 'llm (ask)', faultsInjected: 4, faultsSurvived: survived });
    } finally {
      await client.dispose();
    }
  });
});
