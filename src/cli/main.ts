import { Command, InvalidArgumentError } from 'commander';
import { questionArgument, runAskCommand } from './askCommand';
import { runChatCommand } from './chatCommand';
import { runEvalCommand } from './evalCommand';
import { runIndexCommand } from './indexCommand';
import { runMcpCommand } from './mcp/command';
import { detectOnnxBackend } from '../core/worker/onnxBackend';
import { runTeamAskCommand, runTeamIndexCommand, storeUrl } from './teamCommand';

const program = new Command();
program
  .name('sift')
  .description('Ask questions about a codebase: local hybrid retrieval, reranking, cited answers.')
  // --version also says which onnxruntime runs the models (native, or WebAssembly where none fits).
  .version(process.argv.some((a) => a === '--version' || a === '-V') ? `${process.env.SIFT_VERSION ?? '0.1.0'}\nonnxruntime: ${detectOnnxBackend().label}` : (process.env.SIFT_VERSION ?? '0.1.0'))
  .showHelpAfterError();

/** The model and reranking options every command that ranks shares (ask, chat, eval, mcp). */
function withModelOptions(cmd: Command): Command {
  return withEmbeddingProviderOptions(cmd)
    .option('--embedding-model <idOrDir>', 'embedding model: hub id or local folder (with --embedding-provider openai-compatible: the model name sent to the server)')
    .option('--reranker-model <idOrDir>', 'cross-encoder model: hub id or local folder')
    .option('--rerank-provider <local|http>', 'who scores reranking: local (the cross-encoder, default) or http (POST URL/rerank; key from SIFT_RERANK_API_KEY)')
    .option('--rerank-base-url <url>', 'rerank server base URL (with --rerank-provider http)')
    .option('--rerank-model <name>', 'model name sent to the rerank server (with --rerank-provider http)');
}

/** Retrieval and answer options `ask` and `chat` share. */
function withAnswerOptions(cmd: Command): Command {
  return cmd
    .option('--offline', 'never download models; use local folders and the cache only')
    .option('--lexical-only', 'keyword retrieval only (no embedding model)')
    .option('--no-rerank', 'rank by fusion only (no cross-encoder, no learning-to-rank)')
    .option('--top <n>', 'sources given to the LLM (N)', positiveInt)
    .option('--candidates <k>', 'fused candidates to rerank (K)', positiveInt)
    .option('--token-budget <n>', 'context token budget for the sources', positiveInt)
    .option('--llm-model <name>', 'LLM model name (or SIFT_LLM_MODEL)')
    .option('--llm-base-url <url>', 'OpenAI-compatible base URL (or OPENAI_BASE_URL)')
    .option('--no-redact', 'do not redact keys and credentials found in sources before sending them to the LLM');
}

/** Who embeds chunks and questions (index, ask, chat, eval, mcp): the local model or an OpenAI-compatible server. */
function withEmbeddingProviderOptions(cmd: Command): Command {
  return cmd
    .option('--embedding-provider <local|openai-compatible>', 'who embeds: local (the model in --embedding-model, default) or openai-compatible (POST URL/embeddings: OpenAI, Azure, Ollama, LM Studio, vLLM, llama.cpp, TEI; key from SIFT_EMBEDDING_API_KEY)')
    .option('--embedding-base-url <url>', 'embedding server base URL, e.g. http://localhost:11434/v1 (with --embedding-provider openai-compatible)')
    .option('--embedding-dimensions <n>', 'vector size asked of the embedding server (models that can shorten their vectors)', positiveInt)
    .option('--embedding-batch <n>', 'texts per embedding request (default 64)', positiveInt)
    .option('--embedding-concurrency <n>', 'embedding requests in flight at once (default 4)', positiveInt)
    .option('--embedding-query-prefix <text>', 'put before each question, e.g. "search_query: " (nomic) or "query: " (e5)')
    .option('--embedding-document-prefix <text>', 'put before each chunk, e.g. "search_document: " (nomic) or "passage: " (e5)');
}

function positiveInt(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n) || n <= 0 || String(n) !== value.trim()) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

withEmbeddingProviderOptions(
program
  .command('index')
  .description('index a folder (incremental: only changed files are re-chunked and re-embedded)')
  .argument('[dir]', 'folder to index', '.')
  .option('--index-dir <dir>', 'where the index lives (default: under ~/.cache/sift/indexes)')
  .option('--embedding-model <idOrDir>', 'embedding model: hub id or local folder (with --embedding-provider openai-compatible: the model name sent to the server)', undefined))
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
  .option('--commit-every <files>', 'commit the index after this many changed files (default: when a shard\'s worth of chunks is pending)', positiveInt)
  .option('--store <url>', 'also write the index to a team index: postgres://user@host/db (or SIFT_STORE_URL; see docs/team-index.md)')
  .option('--commit <sha>', 'with --store: the commit the folder is checked out at (default HEAD)')
  .action(async (dir: string, options) => {
    process.exitCode = storeUrl(options) ? await runTeamIndexCommand(dir, options) : await runIndexCommand(dir, options);
  });

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new InvalidArgumentError('expected a number of seconds > 0');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

withAnswerOptions(withModelOptions(
program
  .command('ask')
  .description('answer a question about a folder (indexes it first when needed)')
  .usage('[options] [dir] <question>')
  .argument('<dirOrQuestion>', 'folder to ask about (default: current folder), or the question')
  .argument('[question]', 'the question, quoted, or - to read it from standard input (a pasted bug report or stack trace)')
  .option('--index-dir <dir>', 'where the index lives (default: under ~/.cache/sift/indexes)')))
  .option('--ltr', 'also rerank with the shipped learning-to-rank model (after the cross-encoder; see docs/eval.md)')
  .option('--no-question-prior', 'rank without question understanding\'s file-level prior (implementation files first for bug reports; see docs/eval.md)')
  .option('--ltr-model <file>', 'rerank with this learning-to-rank model JSON (implies --ltr)')
  .option('--compare', 'show rankings (and answers) with and without reranking side by side')
  .option('--rerank-max-tokens <n>', 'tokens the cross-encoder reads per (question, chunk) pair (default 256; fewer is faster, longer chunks are cut)', positiveInt)
  .option('--temperature <t>', 'LLM temperature', nonNegativeNumber)
  .option('--llm-max-tokens <n>', 'maximum answer length in tokens', positiveInt)
  .option('--llm-timeout <seconds>', 'wait this long for the answer to start: the response, then its first text (default 60)', positiveSeconds)
  .option('--llm-idle-timeout <seconds>', 'once the answer has started, stop after a pause this long without new text (default 30)', positiveSeconds)
  .option('--llm-deadline <seconds>', 'stop when the whole answer takes longer than this, retries included (default 300)', positiveSeconds)
  .option('--llm-max-answer-chars <n>', 'stop reading the answer after this many characters (default 200000)', positiveInt)
  .option('--wait-for-embeddings', 'embed every chunk before answering (default: answer once every file is keyword-searchable; dense search covers what is embedded so far)')
  .option('--json', 'print a machine-readable result on stdout')
  .option('--quiet', 'no progress display')
  .option('--store <url>', 'ask the team index (postgres://…, or SIFT_STORE_URL) overlaid with your local changes')
  .option('--path <glob...>', 'scope the question: a file\'s best chunks are always in the context, a folder or glob restricts retrieval to it (also @path in the question)')
  .action(async (first: string, second: string | undefined, options) => {
    const [dir, arg] = second === undefined ? ['.', first] : [first, second];
    const question = await questionArgument(arg);
    process.exitCode = storeUrl(options) && !options.compare ? await runTeamAskCommand(dir, question, options) : await runAskCommand(dir, question, options);
  });

withAnswerOptions(withModelOptions(
program
  .command('chat')
  .description('a conversation about a folder in the terminal: follow-ups use the earlier turns; /new, /compare QUESTION, /quit (one question per line; stdin may be piped)')
  .argument('[dir]', 'folder to ask about', '.')
  .option('--index-dir <dir>', 'where the index lives (default: under ~/.cache/sift/indexes)')))
  .option('--ltr', 'also rerank with the shipped learning-to-rank model')
  .option('--no-question-prior', 'rank without question understanding\'s file-level prior')
  .option('--llm-timeout <seconds>', 'wait this long for the answer to start (default 60)', positiveSeconds)
  .option('--llm-deadline <seconds>', 'stop when a whole answer takes longer than this (default 300)', positiveSeconds)
  .option('--path <glob...>', 'scope every question to these files, folders or globs')
  .option('--json', 'print one JSON line per turn on stdout')
  .option('--quiet', 'no progress display')
  .action(async (dir: string, options) => {
    process.exitCode = await runChatCommand(dir, options);
  });

withModelOptions(
program
  .command('eval')
  .description('measure retrieval quality (bm25, dense, hybrid, +cross-encoder, +learning-to-rank) on questions with known answers')
  .argument('[dir]', 'the repository folder (or --repo)')
  .option('--repo <dir>', 'the repository folder (at the questions\' commit)')
  .option('--questions <file>', 'questions file (JSON lines, SWE-QA format: question, silver_gold [{path, line_ranges}])')
  .option('--filter <repo>', 'only questions whose "repo" is this (owner/name or name)')
  .option('--from-git-history <n>', 'mine up to N questions from the git log and evaluate each at its parent commit', positiveInt)
  .option('--max-files-per-commit <n>', 'skip commits touching more files (with --from-git-history, default 8)', positiveInt)
  .option('--gold-roles <roles>', 'with --from-git-history: only changed files of these roles are gold (source, test, doc, example, generated, config; e.g. source for issue-style questions)')
  .option('--worktree <dir>', 'where to check out parent commits (with --from-git-history)')
  .option('--index-dir <dir>', 'where the index lives (default: under ~/.cache/sift/indexes)'))
  .option('--lexical-only', 'keyword index only (dense and hybrid variants unavailable)')
  .option('--offline', 'never download models; use local folders and the cache only')
  .option('--variants <list>', 'comma-separated: bm25, dense, hybrid, each optionally +ce and/or +ltr')
  .option('--candidates <k>', 'candidates reordered by the cross-encoder / learning-to-rank (K, default 50)', positiveInt)
  .option('--depth <n>', 'how deep each retriever looks (default 100)', positiveInt)
  .option('--rerank-max-tokens <n>', 'tokens the cross-encoder reads per (question, chunk) pair (default 256; fewer is faster, longer chunks are cut)', positiveInt)
  .option('--ltr-model <file>', 'learning-to-rank model JSON (default: the shipped model)')
  .option('--no-ltr', 'no learning-to-rank variants')
  .option('--limit <n>', 'only the first N questions', positiveInt)
  .option('--json-out <file>', 'write the table and per-question results as JSON')
  .option('--ltr-dump <file>', 'write per-candidate features and grades as JSON lines (training data)')
  .option('--store <url>', 'also evaluate every variant against the team index (postgres://…, or SIFT_STORE_URL) with the local overlay: rows NAME@team')
  .option('--conversations <file>', 'evaluate follow-ups with and without the earlier turns (JSON lines: {turns: [{question, gold: [path]}]}; see docs/eval.md)')
  .option('--mine-conversations <n>', 'write up to N conversations mined from the git log (a commit\'s question, then "how is that tested?") to --out FILE', positiveInt)
  .option('--out <file>', 'with --mine-conversations: the conversations file to write')
  .option('--seed <n>', 'with --mine-conversations: seeds the follow-up phrasing and the tune/report split (default 1)', positiveInt)
  .option('--split <half>', 'with --conversations: score the tune or report half of a mined file, or all (default)')
  .option('--ablation', 'with --conversations: also rank follow-ups without the tests-first step')
  .option('--llm-model <name>', 'with --conversations: LLM for the rewrite row (or SIFT_LLM_MODEL)')
  .option('--llm-base-url <url>', 'with --conversations: OpenAI-compatible base URL for the rewrite row (or OPENAI_BASE_URL)')
  .option('--llm-timeout <seconds>', 'with --conversations: wait this long for a rewrite to start (default 60)', positiveSeconds)
  .option('--json', 'print the table as JSON on stdout')
  .option('--quiet', 'no progress display')
  .action(async (dir: string | undefined, options) => {
    process.exitCode = await runEvalCommand(dir, options);
  });

withModelOptions(
program
  .command('mcp')
  .description('serve search over folders to agents: a Model Context Protocol server on stdio (tools: search_code, read_range, index_status; ask with an LLM)')
  .argument('[dirs...]', 'folders to serve (default: the current folder)')
  .option('--index-dir <dir>', 'where the index lives, with one folder (default: under ~/.cache/sift/indexes)'))
  .option('--offline', 'never download models; use local folders and the cache only')
  .option('--lexical-only', 'keyword retrieval only (no embedding model)')
  .option('--no-rerank', 'never load the cross-encoder (search_code ranks by fusion only)')
  .option('--ltr', 'also rerank with the shipped learning-to-rank model (after the cross-encoder)')
  .option('--ltr-model <file>', 'rerank with this learning-to-rank model JSON (implies --ltr)')
  .option('--candidates <k>', 'fused candidates to rerank (K)', positiveInt)
  .option('--rerank-max-tokens <n>', 'tokens the cross-encoder reads per (query, chunk) pair', positiveInt)
  .option('--max-file-size <bytes>', 'skip files larger than this', positiveInt)
  .option('--max-tokens <n>', 'maximum chunk size in model tokens', positiveInt)
  .option('--include <glob...>', 'only index files matching these globs')
  .option('--exclude <glob...>', 'never index files matching these globs')
  .option('--secret-pattern <pattern...>', 'extra secret-file patterns (gitignore syntax) never to index or read')
  .option('--top <n>', 'sources given to the LLM by the ask tool (N)', positiveInt)
  .option('--token-budget <n>', 'context token budget for the ask tool', positiveInt)
  .option('--llm-model <name>', 'LLM model for the ask tool (or SIFT_LLM_MODEL; the tool exists when OPENAI_BASE_URL or OPENAI_API_KEY is set)')
  .option('--llm-base-url <url>', 'OpenAI-compatible base URL (or OPENAI_BASE_URL)')
  .option('--temperature <t>', 'LLM temperature', nonNegativeNumber)
  .option('--llm-max-tokens <n>', 'maximum answer length in tokens', positiveInt)
  .option('--llm-timeout <seconds>', 'wait this long for the answer to start: the response, then its first text (default 60)', positiveSeconds)
  .option('--llm-idle-timeout <seconds>', 'once the answer has started, stop after a pause this long without new text (default 30)', positiveSeconds)
  .option('--llm-deadline <seconds>', 'stop when the whole answer takes longer than this, retries included (default 300)', positiveSeconds)
  .option('--llm-max-answer-chars <n>', 'stop reading the answer after this many characters (default 200000)', positiveInt)
  .option('--no-redact', 'do not redact keys and credentials in code returned to the agent or sent to the LLM')
  .action(async (dirs: string[], options) => {
    process.exitCode = await runMcpCommand(dirs, options);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`sift: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
