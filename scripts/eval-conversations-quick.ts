/**
 * Quick follow-up measurement (issue 18), lexical path, on a repository's own history at HEAD:
 * commits that change a source file and its test; turn 1 = the commit's subject (gold: source
 * files), turn 2 = "and where is this tested?" (gold: test files). Prints follow-up Acc@5 / MRR@10
 * with the conversation (fallback rewrite) and alone, and turn 1 alone.
 * Usage: node --import tsx scripts/eval-conversations-quick.ts REPO INDEX_DIR [N]
 * Caveat: evaluated at HEAD, not at each commit's parent (paths must still exist).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ask } from '../src/core/answer/ask';
import { newConversation } from '../src/core/conversation/conversation';
import { askTurn } from '../src/core/conversation/turn';
import { accuracyAt, fileRanking, mrrAt } from '../src/core/eval/metrics';
import { indexWorkspace } from '../src/core/indexing/indexer';
import { IndexStore } from '../src/core/store/store';
import { git } from '../src/core/util/git';
import { InferenceClient } from '../src/core/worker/client';

const isTest = (p: string) => /(^|\/)(tests?|__tests__|spec)\/|\.(test|spec)\.[a-z]+$|(^|\/)test_[^/]+$/.test(p);
const isCode = (p: string) => /\.(ts|tsx|js|py|go|rs|java)$/.test(p);

async function main() {
  const [repo, indexDir, n = '40'] = process.argv.slice(2) as [string, string, string?];
  const shas = (await git(repo, ['rev-list', '--no-merges', '-n', '1500', 'HEAD'])).trim();
  const log = await git(repo, ['diff-tree', '--stdin', '-r', '--name-only', '--no-ext-diff', '--no-textconv', '--format=@@%s'], { input: `${shas}\n` });
  const sets: { q: string; src: string[]; tests: string[] }[] = [];
  for (const block of log.split('@@').slice(1)) {
    const [subject, ...files] = block.split('\n').map((l) => l.trim()).filter(Boolean);
    const code = files.filter((f) => isCode(f) && existsSync(path.join(repo, f)));
    const src = code.filter((f) => !isTest(f));
    const tests = code.filter(isTest);
    if (src.length && tests.length && src.length + tests.length <= 8 && subject!.length > 20) sets.push({ q: subject!.slice(0, 300), src, tests });
    if (sets.length >= Number(n)) break;
  }
  const client = new InferenceClient(path.join(__dirname, '..', 'dist', 'worker.js'));
  const gen = indexWorkspace({ root: repo, indexDir, client, embedding: null });
  let r = await gen.next();
  while (!r.done) r = await gen.next();
  const store = (await IndexStore.openForRead(indexDir)).store!;
  const ctx = { store, settings: {} };
  const sum = { first: [0, 0], alone: [0, 0], conv: [0, 0] };
  for (const s of sets) {
    const t1 = await askTurn(ctx, newConversation(), s.q, { rerank: false });
    const f1 = fileRanking(t1.result.ranking);
    const alone = fileRanking((await ask(ctx, 'and where is this tested?', { rerank: false })).ranking);
    const conv = fileRanking((await askTurn(ctx, t1.conversation, 'and where is this tested?', { rerank: false })).result.ranking);
    for (const [k, files, gold] of [['first', f1, s.src], ['alone', alone, s.tests], ['conv', conv, s.tests]] as const) {
      sum[k][0] += accuracyAt(files, gold, 5);
      sum[k][1] += mrrAt(files, gold, 10);
    }
  }
  const f = (x: number[]) => `${(x[0]! / sets.length).toFixed(3)} | ${(x[1]! / sets.length).toFixed(3)}`;
  console.log(`${sets.length} conversations (lexical, at HEAD)\n| | Acc@5 | MRR@10 |\n|---|---|---|\n| turn 1 alone (gold: source files) | ${f(sum.first)} |\n| follow-up alone (gold: test files) | ${f(sum.alone)} |\n| follow-up with the conversation | ${f(sum.conv)} |`);
  await client.dispose();
}
void main();
