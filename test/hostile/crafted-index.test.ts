import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { IndexStore } from '../../src/core/store/store';
import { CLI_SCRIPT, TINY_EMBEDDER, tempDir, writeTree } from '../helpers';
import { type CliResult, hasStackTrace, tally } from './tally';

/**
 * A crafted index (names, paths, counts, offsets and lengths in the manifest, the file table, the
 * binary shard files, the lock) must never make Sift read, write or delete outside the index
 * folder, allocate without bound, hang or crash: each variant ends with a clear message or a
 * rebuild inside the index folder.
 *
 * Every variant gets a fresh copy of a real index (built by the CLI with the tiny model), a
 * sentinel tree beside it (`outside/`, hashed before and after; its atimes set to 2020 so that any
 * read of it shows on this relatime mount), then:
 *   A. `sift ask` with the repository unchanged: the read path over the crafted files;
 *   B. one source file changed, `sift index`: the writer builds on the crafted shard (must exit 0);
 *   C. in-process: the index now loads in full and holds only the repository's chunks.
 * Binary variants also rewrite the manifest's recorded size and CRC-32 of the file they change,
 * as an attacker would, so the checksum does not catch them. Each CLI run reports its peak RSS
 * through a preloaded exit hook.
 */

const crc32 = (zlib as unknown as { crc32: (d: Uint8Array, v?: number) => number }).crc32;
const MARKER = 'OUTSIDEMARKER7f3a';
const RUN_TIMEOUT_MS = 30_000;
/** Over the clean runs' peak RSS by this much counts as a huge allocation. */
const RSS_MARGIN_KB = 200 * 1024;
const OLD = new Date('2020-01-01T00:00:00Z');

function repoFiles(salt: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) {
    files[`src/mod${i}.ts`] = `export function handler${i}(input: string): string {\n  // ${salt} module ${i}\n  return input.repeat(${i + 1});\n}\n`;
  }
  return files;
}

interface Run extends CliResult {
  rssKb: number;
  timedOut: boolean;
}

function runCliMeasured(args: string[], hook: string, rssFile: string): Promise<Run> {
  rmSync(rssFile, { force: true });
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, SIFT_DEBUG: undefined, NODE_OPTIONS: `--require ${hook}`, SIFT_TEST_RSS_FILE: rssFile })) {
      if (v !== undefined) env[k] = v;
    }
    const child = spawn(process.execPath, [CLI_SCRIPT, ...args], { env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
      resolve({ code, signal, stdout, stderr, rssKb: lines.length ? Math.max(...lines) : 0, timedOut });
    });
  });
}

/** type, mode, content hash (or link target) of everything under `root`, and the atime-touched entries. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${st.mode.toString(8)}`);
        walk(full);
      } else out.set(rel, `file ${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

function ageAtimes(root: string): void {
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) walk(full);
      utimesSync(full, OLD, st.mtime);
    }
  };
  walk(root);
  utimesSync(root, OLD, lstatSync(root).mtime);
}

/** Entries under `root` whose atime moved since `ageAtimes`: something read them. */
function readSince(root: string): string[] {
  const touched: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) continue;
      if (st.atimeMs > OLD.getTime() + 1000) touched.push(path.relative(root, full) || '.');
      if (st.isDirectory()) walk(full);
    }
  };
  // Reading the atimes (lstat) does not change them; walking reads directories, so check first.
  const self = lstatSync(root);
  if (self.atimeMs > OLD.getTime() + 1000) touched.push('.');
  walk(root);
  return touched;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- crafted JSON is edited freely, field by field
type Json = any;

interface Ctx {
  idx: string;
  outside: string;
  shardDir: string;
  manifest(fn: (m: Record<string, Json>) => void): void;
  files(fn: (t: Record<string, Json>) => void): void;
  /** Rewrites a shard file and records its new size and CRC in the manifest (as an attacker would). */
  shardFile(name: string, fn: (b: Buffer) => Buffer): void;
  /** Records the current size and CRC of a shard file in the manifest. */
  resum(name: string, bytes?: Buffer): void;
  /** Makes the manifest's shard entry describe the evil shard (so only containment can stop it). */
  useEvilSums(): void;
}

/** `contentOnly`: the damage is in chunk text, which only a read of the blocks can see. */
type Variant = { name: string; craft: (c: Ctx) => void; contentOnly?: boolean };

const u32 = (b: Buffer, i: number, v: number) => {
  const c = Buffer.from(b);
  c.writeUInt32LE(v >>> 0, i * 4);
  return c;
};

function chunkFile(blocks: Buffer[], chunks: number, blockSize: number): Buffer {
  const head = Buffer.alloc(16 + 4 * (blocks.length + 1));
  head.writeUInt32LE(0x31424353, 0);
  head.writeUInt32LE(chunks, 4);
  head.writeUInt32LE(blockSize, 8);
  head.writeUInt32LE(blocks.length, 12);
  let end = 0;
  blocks.forEach((b, i) => head.writeUInt32LE((end += b.length), 16 + 4 * (i + 1)));
  return Buffer.concat([head, ...blocks]);
}

/** The chunks of a chunk file (the real format), to re-encode them changed. */
function decodeChunks(b: Buffer): Record<string, unknown>[] {
  const blocks = b.readUInt32LE(12);
  const at = 16 + 4 * (blocks + 1);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < blocks; i++) {
    const s = b.readUInt32LE(16 + 4 * i);
    const e = b.readUInt32LE(16 + 4 * (i + 1));
    out.push(...(JSON.parse(zlib.inflateRawSync(b.subarray(at + s, at + e)).toString()) as Record<string, unknown>[]));
  }
  return out;
}

function reencode(chunks: unknown[]): Buffer {
  return chunkFile([zlib.deflateRawSync(Buffer.from(JSON.stringify(chunks)))], chunks.length, Math.max(1, chunks.length));
}

/** A deflate stream of `mb` MB of spaces inside a JSON array (a few hundred KB compressed). */
function deflateBomb(mb: number): Buffer {
  // Pieces compressed on their own and ended with a full flush (no final block) concatenate into
  // one valid stream: each piece refers only to its own bytes.
  const parts: Buffer[] = [];
  const one = Buffer.alloc(1 << 20, 0x20);
  const mid = zlib.deflateRawSync(one, { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 });
  parts.push(zlib.deflateRawSync(Buffer.from('['), { finishFlush: zlib.constants.Z_FULL_FLUSH }));
  for (let i = 0; i < mb; i++) parts.push(mid);
  parts.push(zlib.deflateRawSync(Buffer.from(']')));
  return Buffer.concat(parts);
}

function bm25Offsets(b: Buffer): { D: number; T: number; P: number; M: number; O: number; termOffAt: number; docAt: number } {
  const r = (i: number) => b.readUInt32LE(i * 4);
  const D = r(1);
  const T = r(2);
  const P = r(3);
  const M = r(6);
  const O = r(7);
  const termOffAt = 32 + 8 * 4;
  const docAt = termOffAt + 8 * (T + 1) + 4 * M + 8 * O + 2 * D * 4 + 2 * M * 4;
  return { D, T, P, M, O, termOffAt, docAt };
}

const VARIANTS: Variant[] = [
  // ---- names and paths in the manifest and the file table
  {
    name: 'shard name ../../outside/target (the reported case)',
    craft: (c) => {
      c.manifest((m) => (m.shards[0].name = '../../outside/target'));
      c.files((t) => Object.values(t).forEach((e: Json) => (e.shard = '../../outside/target')));
    },
  },
  { name: 'shard dir ../../outside/target', craft: (c) => c.manifest((m) => (m.shards[0].dir = '../../outside/target')) },
  { name: 'shard dir absolute (outside/evil)', craft: (c) => c.manifest((m) => (m.shards[0].dir = path.join(c.outside, 'evil'))) },
  { name: 'shard dir "."', craft: (c) => c.manifest((m) => (m.shards[0].dir = '.')) },
  { name: 'shard dir ".."', craft: (c) => c.manifest((m) => (m.shards[0].dir = '..')) },
  {
    name: 'shard name with a separator and NUL',
    craft: (c) => {
      c.manifest((m) => (m.shards[0].name = 's0000/..\u0000'));
      c.files((t) => Object.values(t).forEach((e: Json) => (e.shard = 's0000/..\u0000')));
    },
  },
  { name: 'file table name ../outside/files.json', craft: (c) => c.manifest((m) => (m.filesFile = '../outside/files.json')) },
  { name: 'file table name absolute', craft: (c) => c.manifest((m) => (m.filesFile = path.join(c.outside, 'files.json'))) },
  {
    name: 'file table keys ../../outside/keep.txt and /etc/passwd',
    craft: (c) =>
      c.files((t) => {
        const [k, v] = Object.entries(t)[0]!;
        delete t[k];
        t['../../outside/keep.txt'] = v;
        t['/etc/passwd'] = { ...(v as object), chunkIds: [] , shard: '' };
      }),
  },
  { name: 'file entry points at shard ../../outside/target', craft: (c) => c.files((t) => ((Object.values(t)[0] as Json).shard = '../../outside/target')) },
  {
    name: 'chunk paths ../../outside/keep.txt and absolute inside chunks.bin',
    craft: (c) =>
      c.shardFile('chunks.bin', (b) => reencode(decodeChunks(b).map((ch, i) => ({ ...ch, path: i % 2 ? '../../outside/keep.txt' : path.join(c.outside, 'keep.txt') })))),
    contentOnly: true,
  },
  // ---- numbers in the manifest
  { name: 'generation -1', craft: (c) => c.manifest((m) => (m.generation = -1)) },
  { name: 'generation 1.5', craft: (c) => c.manifest((m) => (m.generation = 1.5)) },
  { name: 'generation 1e308', craft: (c) => c.manifest((m) => (m.generation = 1e308)) },
  { name: 'generation "1" (string)', craft: (c) => c.manifest((m) => (m.generation = '1')) },
  { name: 'shard chunks -5', craft: (c) => c.manifest((m) => (m.shards[0].chunks = -5)) },
  { name: 'shard chunks 2^31', craft: (c) => c.manifest((m) => (m.shards[0].chunks = 2 ** 31)) },
  { name: 'shard chunks 1.5', craft: (c) => c.manifest((m) => (m.shards[0].chunks = 1.5)) },
  { name: 'shard file bytes -1 / 1e20 / null', craft: (c) => c.manifest((m) => Object.assign(m.shards[0].files, { 'chunks.bin': { bytes: -1, crc: 0 }, 'lexical.bin': { bytes: 1e20, crc: 0 }, 'vectors.bin': { bytes: null, crc: 'x' } })) },
  { name: 'embedding dim 1e9', craft: (c) => c.manifest((m) => (m.embedding.dim = 1e9)) },
  { name: 'file entry size NaN-as-null, chunkIds a string', craft: (c) => c.files((t) => Object.assign(Object.values(t)[0] as object, { size: null, chunkIds: 'abc' })) },
  // ---- wrong types in JSON
  { name: 'manifest is an array', craft: (c) => writeFileSync(path.join(c.idx, 'manifest.json'), '[1,2,3]') },
  { name: 'manifest is null', craft: (c) => writeFileSync(path.join(c.idx, 'manifest.json'), 'null') },
  { name: 'shards is an object', craft: (c) => c.manifest((m) => (m.shards = { 0: m.shards[0], length: 1 })) },
  { name: 'file table is an array', craft: (c) => writeFileSync(path.join(c.idx, 'files.g1.json'), '[{"hash":1}]') },
  { name: 'manifest nested 200k deep', craft: (c) => writeFileSync(path.join(c.idx, 'manifest.json'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`) },
  { name: 'manifest.json sparse 1.5 GB', craft: (c) => truncateSync(path.join(c.idx, 'manifest.json'), 1.5 * 2 ** 30) },
  // ---- chunks.bin
  { name: 'chunks.bin: 995 bytes claiming 2^28 blocks (the reported case)', craft: (c) => c.shardFile('chunks.bin', () => { const b = Buffer.alloc(995); b.writeUInt32LE(0x31424353, 0); b.writeUInt32LE(2 ** 28, 4); b.writeUInt32LE(1, 8); b.writeUInt32LE(2 ** 28, 12); return b; }) },
  { name: 'chunks.bin: 2^32-1 chunks and blocks', craft: (c) => c.shardFile('chunks.bin', (b) => u32(u32(u32(b, 1, 0xffffffff), 2, 1), 3, 0xffffffff)) },
  { name: 'chunks.bin: block size 0', craft: (c) => c.shardFile('chunks.bin', (b) => u32(b, 2, 0)) },
  { name: 'chunks.bin: block end past the end of the file', craft: (c) => c.shardFile('chunks.bin', (b) => u32(b, 4 + b.readUInt32LE(12), 0x7fffffff)) },
  { name: 'chunks.bin: block ends decreasing', craft: (c) => c.shardFile('chunks.bin', (b) => u32(b, 5, 0xfffffff0)) },
  { name: 'chunks.bin: a block inflating to 300 MB', craft: (c) => c.shardFile('chunks.bin', () => chunkFile([deflateBomb(300)], 12, 12)), contentOnly: true },
  { name: 'chunks.bin: wrong types in the chunk JSON', craft: (c) => c.shardFile('chunks.bin', (b) => reencode(decodeChunks(b).map((ch) => ({ ...ch, startLine: '1', text: 5, symbols: { a: 1 } })))), contentOnly: true },
  { name: 'chunks.bin: a block that is not an array', craft: (c) => c.shardFile('chunks.bin', () => chunkFile([zlib.deflateRawSync(Buffer.from('{"length":12}'))], 12, 12)), contentOnly: true },
  { name: 'chunks.bin: fewer chunks than the header says', craft: (c) => c.shardFile('chunks.bin', (b) => { const all = decodeChunks(b); const e = reencode(all.slice(0, 3)); return u32(u32(e, 1, all.length), 2, all.length); }), contentOnly: true },
  { name: 'chunks.bin: truncated', craft: (c) => c.shardFile('chunks.bin', (b) => b.subarray(0, Math.floor(b.length / 2))) },
  { name: 'chunks.bin: empty', craft: (c) => c.shardFile('chunks.bin', () => Buffer.alloc(0)) },
  // ---- lexical.bin
  { name: 'lexical.bin: 2^32-1 documents', craft: (c) => c.shardFile('lexical.bin', (b) => u32(b, 1, 0xffffffff)) },
  { name: 'lexical.bin: 2^32-1 terms', craft: (c) => c.shardFile('lexical.bin', (b) => u32(b, 2, 0xffffffff)) },
  { name: 'lexical.bin: 2^31 postings, huge id bytes', craft: (c) => c.shardFile('lexical.bin', (b) => u32(u32(b, 3, 2 ** 31), 4, 0xfffffff0)) },
  { name: 'lexical.bin: posting document out of range', craft: (c) => c.shardFile('lexical.bin', (b) => { const x = Buffer.from(b); const o = bm25Offsets(x); for (let p = 0; p < o.P; p++) x.writeUInt16LE(0xffff, o.docAt + 2 * p); return x; }) },
  { name: 'lexical.bin: term offsets out of range', craft: (c) => c.shardFile('lexical.bin', (b) => { const x = Buffer.from(b); const o = bm25Offsets(x); x.writeUInt32LE(0xfffffff0, o.termOffAt + 4); return x; }) },
  { name: 'lexical.bin: truncated', craft: (c) => c.shardFile('lexical.bin', (b) => b.subarray(0, 40)) },
  { name: 'lexical.bin: sparse 1 GB', craft: (c) => { const f = path.join(c.shardDir, 'lexical.bin'); truncateSync(f, 2 ** 30); c.manifest((m) => (m.shards[0].files['lexical.bin'] = { bytes: 2 ** 30, crc: 0 })); } },
  // ---- vectors.bin
  { name: 'vectors.bin: 2^32-1 vectors', craft: (c) => c.shardFile('vectors.bin', (b) => u32(b, 1, 0xffffffff)) },
  { name: 'vectors.bin: dim 2^32-1', craft: (c) => c.shardFile('vectors.bin', (b) => u32(b, 2, 0xffffffff)) },
  {
    name: 'vectors.bin: consistent file of dimension 1',
    craft: (c) =>
      c.shardFile('vectors.bin', (b) => {
        const n = b.readUInt32LE(4);
        const dim = b.readUInt32LE(8);
        const ids = b.subarray(16 + 4 * n + n * dim);
        const head = Buffer.alloc(16 + 5 * n);
        head.writeUInt32LE(0x31585653, 0);
        head.writeUInt32LE(n, 4);
        head.writeUInt32LE(1, 8);
        head.writeUInt32LE(ids.length, 12);
        for (let i = 0; i < n; i++) head.writeFloatLE(1, 16 + 4 * i);
        return Buffer.concat([head, ids]);
      }),
  },
  { name: 'vectors.bin: NaN and Infinity row factors', craft: (c) => c.shardFile('vectors.bin', (b) => { const x = Buffer.from(b); const n = x.readUInt32LE(4); for (let i = 0; i < n; i++) x.writeFloatLE(i % 2 ? Number.NaN : Number.POSITIVE_INFINITY, 16 + 4 * i); return x; }) },
  { name: 'vectors.bin: ids do not match the count', craft: (c) => c.shardFile('vectors.bin', (b) => Buffer.from(b.toString('latin1').replace(/\n/g, 'x'), 'latin1')) },
  { name: 'vectors.bin: truncated', craft: (c) => c.shardFile('vectors.bin', (b) => b.subarray(0, 20)) },
  // ---- symlinks and special files
  { name: 'shards/ is a symlink to outside/shards', craft: (c) => { rmSync(path.join(c.idx, 'shards'), { recursive: true }); symlinkSync(path.join(c.outside, 'shards'), path.join(c.idx, 'shards')); c.useEvilSums(); } },
  { name: 'shard dir is a symlink to outside/evil', craft: (c) => { rmSync(c.shardDir, { recursive: true }); symlinkSync(path.join(c.outside, 'evil'), c.shardDir); c.useEvilSums(); } },
  {
    name: 'chunks.bin is a symlink to outside/evil/chunks.bin',
    craft: (c) => {
      rmSync(path.join(c.shardDir, 'chunks.bin'));
      symlinkSync(path.join(c.outside, 'evil', 'chunks.bin'), path.join(c.shardDir, 'chunks.bin'));
      c.resum('chunks.bin', readFileSync(path.join(c.outside, 'evil', 'chunks.bin')));
    },
  },
  { name: 'lexical.bin is a symlink to outside/keep.txt', craft: (c) => { rmSync(path.join(c.shardDir, 'lexical.bin')); symlinkSync(path.join(c.outside, 'keep.txt'), path.join(c.shardDir, 'lexical.bin')); c.resum('lexical.bin', readFileSync(path.join(c.outside, 'keep.txt'))); } },
  { name: 'manifest.json is a symlink to outside/manifest.json', craft: (c) => { rmSync(path.join(c.idx, 'manifest.json')); symlinkSync(path.join(c.outside, 'manifest.json'), path.join(c.idx, 'manifest.json')); } },
  { name: 'the file table is a symlink to outside/files.json', craft: (c) => { rmSync(path.join(c.idx, 'files.g1.json')); symlinkSync(path.join(c.outside, 'files.json'), path.join(c.idx, 'files.g1.json')); } },
  { name: 'chunks.bin is a FIFO', craft: (c) => { rmSync(path.join(c.shardDir, 'chunks.bin')); execFileSync('mkfifo', [path.join(c.shardDir, 'chunks.bin')]); } },
  { name: 'manifest.json is a FIFO', craft: (c) => { rmSync(path.join(c.idx, 'manifest.json')); execFileSync('mkfifo', [path.join(c.idx, 'manifest.json')]); } },
  { name: 'shards/ is a regular file', craft: (c) => { rmSync(path.join(c.idx, 'shards'), { recursive: true }); writeFileSync(path.join(c.idx, 'shards'), 'x'); } },
  { name: 'the shard dir is a regular file', craft: (c) => { rmSync(c.shardDir, { recursive: true }); writeFileSync(c.shardDir, 'x'); } },
  // ---- the lock file
  { name: 'writer.lock: pid -1', craft: (c) => writeFileSync(path.join(c.idx, 'writer.lock'), JSON.stringify({ pid: -1, host: hostname(), since: '' })) },
  { name: 'writer.lock: pid 0', craft: (c) => writeFileSync(path.join(c.idx, 'writer.lock'), JSON.stringify({ pid: 0, host: hostname(), since: '' })) },
  { name: 'writer.lock: pid 1.5, host a number', craft: (c) => writeFileSync(path.join(c.idx, 'writer.lock'), '{"pid":1.5,"host":7}') },
  { name: 'writer.lock: sparse 1 GB', craft: (c) => { writeFileSync(path.join(c.idx, 'writer.lock'), ''); truncateSync(path.join(c.idx, 'writer.lock'), 2 ** 30); } },
  { name: 'writer.lock: a FIFO', craft: (c) => execFileSync('mkfifo', [path.join(c.idx, 'writer.lock')]) },
  { name: 'writer.lock: a symlink to outside/keep.txt', craft: (c) => symlinkSync(path.join(c.outside, 'keep.txt'), path.join(c.idx, 'writer.lock')) },
];


describe('crafted index', () => {
  it('a crafted index never makes Sift touch anything outside its folder, allocate hugely, hang or crash', { timeout: 30 * 60_000 }, async () => {
    const { dir, cleanup } = tempDir('sift-hostile-crafted-');
    try {
      const hook = path.join(dir, 'rss-hook.cjs');
      writeFileSync(hook, "const fs = require('fs');\nprocess.on('exit', () => { try { if (process.env.SIFT_TEST_RSS_FILE) fs.appendFileSync(process.env.SIFT_TEST_RSS_FILE, `${process.resourceUsage().maxRSS}\\n`); } catch {} });\n");
      const rssFile = path.join(dir, 'rss.txt');
      const model = ['--embedding-model', TINY_EMBEDDER, '--offline'];
      // Templates: the real index, and an "evil" one whose chunks carry the marker.
      const tplRepo = path.join(dir, 'tpl-repo');
      writeTree(tplRepo, repoFiles('plain'));
      const tplIdx = path.join(dir, 'tpl-idx');
      const built = await runCliMeasured(['index', tplRepo, '--index-dir', tplIdx, ...model, '--json'], hook, rssFile);
      assert.equal(built.code, 0, built.stderr);
      const evilRepo = path.join(dir, 'evil-repo');
      writeTree(evilRepo, repoFiles(MARKER));
      const evilIdx = path.join(dir, 'evil-idx');
      const evil = await runCliMeasured(['index', evilRepo, '--index-dir', evilIdx, ...model, '--json'], hook, rssFile);
      assert.equal(evil.code, 0, evil.stderr);
      const tplManifest = JSON.parse(readFileSync(path.join(tplIdx, 'manifest.json'), 'utf8'));
      const evilManifest = JSON.parse(readFileSync(path.join(evilIdx, 'manifest.json'), 'utf8'));
      const shardName = tplManifest.shards[0].dir as string;
      assert.equal(tplManifest.shards.length, 1);
      assert.equal(evilManifest.shards[0].dir, shardName);

      // Baseline: the peak RSS of clean runs.
      let baseline = 0;
      for (let i = 0; i < 2; i++) {
        const work = path.join(dir, `baseline${i}`);
        cpSync(tplRepo, path.join(work, 'repo'), { recursive: true, preserveTimestamps: true });
        cpSync(tplIdx, path.join(work, 'idx'), { recursive: true });
        const a = await runCliMeasured(['ask', path.join(work, 'repo'), 'what does handler3 return', '--index-dir', path.join(work, 'idx'), ...model, '--no-rerank', '--json'], hook, rssFile);
        assert.equal(a.code, 0, a.stderr);
        writeFileSync(path.join(work, 'repo', 'src', 'mod3.ts'), 'export const changed = 1;\n');
        const b = await runCliMeasured(['index', path.join(work, 'repo'), '--index-dir', path.join(work, 'idx'), ...model, '--json'], hook, rssFile);
        assert.equal(b.code, 0, b.stderr);
        baseline = Math.max(baseline, a.rssKb, b.rssKb);
      }
      assert.ok(baseline > 0, 'the RSS hook reports');

      const failures: string[] = [];
      let executed = 0;
      let lost = 0;
      let n = 0;
      // Every variant through the reader, then the writer; variants whose damage only shows when
      // chunk text is read also straight through the writer (it finds them mid-commit and rebuilds).
      const passes = [...VARIANTS.map((v) => ({ variant: v, indexOnly: false })), ...VARIANTS.filter((v) => v.contentOnly).map((v) => ({ variant: v, indexOnly: true }))];
      for (const { variant, indexOnly } of passes) {
        const work = path.join(dir, `v${n++}`);
        const repo = path.join(work, 'repo');
        const idx = path.join(work, 'idx');
        const outside = path.join(work, 'outside');
        cpSync(tplRepo, repo, { recursive: true, preserveTimestamps: true });
        cpSync(tplIdx, idx, { recursive: true });
        writeTree(outside, { 'keep.txt': `keep ${MARKER}\n`, 'target/keep.txt': 'target\n', 'target.g2/keep.txt': 'target g2\n', 'files.json': readFileSync(path.join(tplIdx, 'files.g1.json')) });
        writeFileSync(path.join(outside, 'manifest.json'), readFileSync(path.join(tplIdx, 'manifest.json')));
        cpSync(path.join(evilIdx, 'shards', shardName), path.join(outside, 'evil'), { recursive: true });
        cpSync(path.join(evilIdx, 'shards'), path.join(outside, 'shards'), { recursive: true });
        const shardDir = path.join(idx, 'shards', shardName);
        const editJson = (file: string, fn: (v: Json) => void) => {
          const v = JSON.parse(readFileSync(file, 'utf8'));
          fn(v);
          writeFileSync(file, JSON.stringify(v));
        };
        const ctx: Ctx = {
          idx,
          outside,
          shardDir,
          manifest: (fn) => editJson(path.join(idx, 'manifest.json'), fn),
          files: (fn) => editJson(path.join(idx, 'files.g1.json'), fn),
          resum: (name, bytes) => {
            const b = bytes ?? readFileSync(path.join(shardDir, name));
            editJson(path.join(idx, 'manifest.json'), (m) => (m.shards[0].files[name] = { bytes: b.length, crc: crc32(b) }));
          },
          shardFile: (name, fn) => {
            const b = fn(readFileSync(path.join(shardDir, name)));
            writeFileSync(path.join(shardDir, name), b);
            ctx.resum(name, b);
          },
          useEvilSums: () => editJson(path.join(idx, 'manifest.json'), (m) => (m.shards[0] = { ...evilManifest.shards[0] })),
        };
        variant.craft(ctx);

        const before = snapshot(outside);
        const topBefore = [readdirSync(work).sort().join(','), readdirSync(dir).filter((e) => !/^v\d+$|^rss\.txt$/.test(e)).sort().join(',')];
        ageAtimes(outside);
        const problems: string[] = [];
        let thisExecuted = false;
        const payload = (problem: string) => {
          problems.push(problem);
          thisExecuted = true;
        };

        const runs: Run[] = [];
        if (!indexOnly) {
          const a = await runCliMeasured(['ask', repo, 'what does handler3 return', '--index-dir', idx, ...model, '--no-rerank', '--json'], hook, rssFile);
          runs.push(a);
          const clear = /^sift: .*(damaged|unusable|cannot be read|rebuild)/im.test(a.stderr) && !hasStackTrace(a.stderr);
          if (a.timedOut) payload('ask hung');
          else if (a.code !== 0 && !clear) problems.push(`ask exit ${a.code} without a clear message: ${a.stderr.slice(0, 400)}`);
        }
        writeFileSync(path.join(repo, 'src', 'mod3.ts'), 'export function changed(): number {\n  return 3;\n}\n');
        const b = await runCliMeasured(['index', repo, '--index-dir', idx, ...model, '--json'], hook, rssFile);
        runs.push(b);
        if (b.timedOut) payload('index hung');
        else if (b.code !== 0) problems.push(`index exit ${b.code} (no rebuild): ${b.stderr.slice(0, 400)}`);
        else if (hasStackTrace(b.stderr)) problems.push(`index printed a stack trace: ${b.stderr.slice(0, 400)}`);
        else if (indexOnly && !/Rebuilding the index: it is damaged/.test(b.stderr)) problems.push(`index did not say it rebuilt: ${b.stderr.slice(0, 400)}`);
        for (const r of runs) {
          if (r.rssKb > baseline + RSS_MARGIN_KB) payload(`peak RSS ${Math.round(r.rssKb / 1024)} MB (clean runs: ${Math.round(baseline / 1024)} MB)`);
          if (r.stdout.includes(MARKER) || r.stderr.includes(MARKER)) payload('content from outside the index folder was used');
        }
        const read = readSince(outside);
        if (read.length) payload(`read outside the index folder: ${read.join(', ')}`);
        const after = snapshot(outside);
        const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
        const topAfter = [readdirSync(work).sort().join(','), readdirSync(dir).filter((e) => !/^v\d+$|^rss\.txt$/.test(e)).sort().join(',')];
        if (topAfter.join('|') !== topBefore.join('|')) changed.push(`created beside the index: ${topAfter.join(' | ')}`);
        if (changed.length) {
          problems.push(`changed outside the index folder: ${changed.join(', ')}`);
          lost += changed.length;
          thisExecuted = true;
        }
        // C: the index is whole again and holds only the repository's chunks.
        if (!b.timedOut && b.code === 0) {
          try {
            const { store, problem } = await IndexStore.openForRead(idx);
            if (!store) throw new Error(problem);
            const paths = new Set<string>();
            for (const shard of store.manifest.shards) {
              const data = await store.loadShard(shard);
              await store.lexical(shard);
              for (const ch of data.chunks) {
                paths.add(ch.path);
                if (ch.text.includes(MARKER)) throw new Error('the index holds content from outside');
              }
            }
            await store.close();
            const want = Object.keys(repoFiles('')).sort();
            if ([...paths].sort().join() !== want.join()) throw new Error(`indexed ${[...paths].sort().join(', ')}`);
          } catch (err) {
            problems.push(`after the run the index is not whole: ${(err as Error).message}`);
          }
        }
        if (thisExecuted) executed++;
        if (problems.length) failures.push(`${variant.name}${indexOnly ? ' (index only)' : ''}:\n    ${problems.join('\n    ')}`);
        rmSync(work, { recursive: true, force: true });
      }
      tally({ area: 'crafted index', payloadsTried: passes.length, payloadsExecuted: executed, filesLost: lost, note: `${passes.length} runs of ${VARIANTS.length} crafted variants (names, paths, counts, offsets, lengths, types, symlinks, FIFOs, sparse files); peak RSS of clean runs ${Math.round(baseline / 1024)} MB` });
      assert.deepEqual(failures, []);
    } finally {
      cleanup();
    }
  });
});
