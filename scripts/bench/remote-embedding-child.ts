/**
 * Child process of P6 (remoteEmbedding.ts, `benchRemoteEmbeddingInChild`): plays the extension host
 * for the dense pass against the loopback server, bundled to plain JavaScript (bundleChild.ts) so
 * that the indexing thread and the inference worker it starts run without tsx's loader, as the
 * product's do. Args: one JSON RemoteEmbeddingBenchConfig (no `log`); log lines on stderr; prints
 * the rows as one JSON line.
 */
import { type RemoteEmbeddingBenchConfig, benchRemoteEmbedding } from './remoteEmbedding';

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as RemoteEmbeddingBenchConfig;
  const rows = await benchRemoteEmbedding({ ...cfg, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
