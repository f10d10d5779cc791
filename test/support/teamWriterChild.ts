// A team-index writer run as a child process: writes one commit of N synthetic files and, after its
// first batch of chunk rows, prints "mid-commit" and waits for the parent to kill it.
import { connect } from '../../src/core/team/schema';
import { writeTeamCommit } from '../../src/core/team/writer';
import type { Chunk } from '../../src/core/types';

const [url, commit, count] = process.argv.slice(2) as [string, string, string];
const files = Array.from({ length: Number(count) }, (_, i) => ({ path: `gen/file${i}.ts`, hash: `h${commit}${i}` }));
void (async () => {
const client = await connect(url);
await writeTeamCommit(client, {
  repoKey: 'repo-killed',
  commit,
  embedding: { model: 'm', dim: 4 },
  chunker: 'test',
  files,
  async *chunksOf(fs) {
    for (const file of fs) {
      const chunk: Chunk = { id: `${file.path}#0`, path: file.path, startLine: 1, endLine: 1, language: 'typescript', kind: 'function', symbols: ['generated'], header: '', text: `export const v = '${commit}';`, hash: file.hash };
      yield { file, chunks: [{ chunk, vector: [1, 0, 0, 0] }] };
    }
  },
  onBatch: async () => {
    process.stdout.write('mid-commit\n');
    await new Promise(() => undefined);
  },
});
})();
