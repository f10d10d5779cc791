import { Command, InvalidArgumentError } from 'commander';
import { runIndexCommand } from './indexCommand';

const program = new Command();
program
  .name('sift')
  .description('Ask questions about a codebase: local hybrid retrieval, reranking, cited answers.')
  .version(process.env.SIFT_VERSION ?? '0.1.0')
  .showHelpAfterError();

function positiveInt(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n) || n <= 0 || String(n) !== value.trim()) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

program
  .command('index')
  .description('index a folder (incremental: only changed files are re-chunked and re-embedded)')
  .argument('[dir]', 'folder to index', '.')
  .option('--index-dir <dir>', 'where the index lives (default: under ~/.cache/sift/indexes)')
  .option('--embedding-model <idOrDir>', 'embedding model: hub id or local folder', undefined)
  .option('--offline', 'never download models; use local folders and the cache only')
  .option('--lexical-only', 'build a keyword-only index without an embedding model')
  .option('--max-file-size <bytes>', 'skip files larger than this', positiveInt)
  .option('--max-tokens <n>', 'maximum chunk size in model tokens', positiveInt)
  .option('--include <glob...>', 'only index files matching these globs')
  .option('--exclude <glob...>', 'never index files matching these globs')
  .option('--secret-pattern <pattern...>', 'extra secret-file patterns (gitignore syntax) never to index')
  .option('--json', 'print a machine-readable summary on stdout')
  .option('--quiet', 'no progress display')
  .option('--events', 'print progress events as JSON lines on stderr (for tools)')
  .option('--commit-every <files>', 'commit the index after this many changed files', positiveInt)
  .action(async (dir: string, options) => {
    process.exitCode = await runIndexCommand(dir, options);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`sift: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
