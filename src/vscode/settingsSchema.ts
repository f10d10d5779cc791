/**
 * Every Sift setting, defined once: key (under `sift.`), JSON type, default, description, and
 * what a change requires. package.json's `contributes.configuration` must match this table
 * (test/unit/settings.test.ts checks it). No vscode import here, so tests run in plain Node.
 */
import { DEFAULT_RERANK_MAX_LENGTH } from '../core/models/models';

export type Effect = 'none' | 'reindex' | 'reload-models';

interface Def<T> {
  type: 'string' | 'number' | 'boolean' | 'array';
  default: T;
  description: string;
  /** What must happen when it changes. */
  effect: Effect;
  minimum?: number;
  maximum?: number;
  items?: { type: 'string' };
  format?: 'uri';
  enum?: readonly string[];
  enumDescriptions?: readonly string[];
  /**
   * `machine`: read only from the user's own settings (user or remote-machine), never from a
   * workspace. Every setting that chooses where code or the API key go, what is redacted, or where
   * executable model files come from is `machine` (src/vscode/trust.ts refuses workspace values too,
   * and test/unit/settings.test.ts checks that such settings are marked).
   */
  scope?: 'machine';
}

const def = <T>(d: Def<T>) => d;

export const SETTINGS = {
  'llm.baseUrl': def({
    scope: 'machine',
    type: 'string',
    default: '',
    description: 'OpenAI-compatible endpoint, e.g. `http://localhost:11434/v1` (Ollama), `http://localhost:1234/v1` (LM Studio), `http://localhost:8000/v1` (vLLM). Empty: api.openai.com when an API key is set, otherwise no LLM (Sift shows ranked sources only). The API key is stored with **Sift: Set API Key**, never in settings. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.',
    effect: 'none',
  }),
  'llm.model': def({ scope: 'machine', type: 'string', default: '', description: 'Model name sent to the endpoint (e.g. `gpt-4o-mini`, `qwen2.5-coder:7b`). Required for a written answer. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'none' }),
  'llm.provider': def({
    scope: 'machine',
    type: 'string',
    default: 'auto',
    enum: ['auto', 'openai-compatible', 'vscode'],
    enumDescriptions: ['The editor\'s chat model when VS Code has one and `#sift.llm.baseUrl#` is empty; otherwise the OpenAI-compatible endpoint.', 'Always the OpenAI-compatible endpoint (`#sift.llm.baseUrl#`, `#sift.llm.model#`).', 'Always a chat model of VS Code (`vscode.lm`, e.g. GitHub Copilot), chosen by `#sift.llm.vscodeModel#`.'],
    description: 'Which LLM writes the panel\'s answers: `auto`, `openai-compatible` or `vscode` (a chat model VS Code provides: no API key needed; VS Code asks once for permission). Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.',
    effect: 'none',
  }),
  'llm.vscodeModel': def({ scope: 'machine', type: 'string', default: '', description: 'The VS Code chat model Sift uses (`#sift.llm.provider#`): a model id, a family (e.g. `gpt-4o`) or `vendor/family`; empty: the first model VS Code offers. **Sift: Choose Chat Model** picks one. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'none' }),
  'llm.temperature': def({ type: 'number', default: 0.1, minimum: 0, maximum: 2, description: 'Sampling temperature for answers.', effect: 'none' }),
  'llm.maxTokens': def({ type: 'number', default: 1024, minimum: 16, maximum: 32768, description: 'Maximum answer length in tokens.', effect: 'none' }),
  'llm.redactSecrets': def({ scope: 'machine', type: 'boolean', default: true, description: 'Before sources are sent to the LLM, replace private-key blocks and credential patterns (cloud keys, tokens, passwords in URLs) found inside indexed files with `[REDACTED …]`. Secret files themselves are never indexed. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'none' }),
  'llm.timeoutSeconds': def({ type: 'number', default: 60, minimum: 1, maximum: 600, description: 'How long to wait for the LLM to start answering (its response, then the first text) before giving up. Once text flows, `#sift.llm.idleTimeoutSeconds#` and `#sift.llm.deadlineSeconds#` apply.', effect: 'none' }),
  'llm.idleTimeoutSeconds': def({ type: 'number', default: 30, minimum: 1, maximum: 600, description: 'Once the answer has started: the longest pause without new text before Sift stops waiting (keep-alive traffic without text does not count). The text so far is kept.', effect: 'none' }),
  'llm.deadlineSeconds': def({ type: 'number', default: 300, minimum: 5, maximum: 3600, description: 'The longest a whole answer may take, retries included. The text so far is kept.', effect: 'none' }),
  'llm.maxAnswerChars': def({ type: 'number', default: 200000, minimum: 1000, maximum: 5000000, description: 'The longest answer Sift reads, in characters (reasoning and tool-call text from the server have the same cap). Sift stops reading there and keeps the text so far.', effect: 'none' }),
  'models.embedding': def({ scope: 'machine', type: 'string', default: 'Xenova/all-MiniLM-L6-v2', description: 'Embedding (bi-encoder) model: a Hugging Face hub id in transformers.js ONNX layout, or an absolute path to a local model folder. Changing it rebuilds the index. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reindex' }),
  'models.reranker': def({ scope: 'machine', type: 'string', default: 'Xenova/ms-marco-MiniLM-L-6-v2', description: 'Cross-encoder reranker: a hub id or an absolute path to a local model folder. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reload-models' }),
  'rerank.provider': def({
    scope: 'machine',
    type: 'string',
    default: 'local',
    enum: ['local', 'http'],
    enumDescriptions: ['The cross-encoder in `#sift.models.reranker#`, run locally.', 'A rerank server (`POST {baseUrl}/rerank`, as served by text-embeddings-inference, vLLM, llama.cpp, Jina, Cohere, Voyage) at `#sift.rerank.baseUrl#`; the key, if any, from **Sift: Set Rerank API Key** (secret storage, sent only to that server), else the `SIFT_RERANK_API_KEY` environment variable. Chunk text is sent to that server.'],
    description: 'Who scores reranking: `local` or `http`. When the server fails, answers use the fused ranking and say so. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.',
    effect: 'reload-models',
  }),
  'rerank.baseUrl': def({ scope: 'machine', type: 'string', default: '', description: 'Rerank server base URL for `#sift.rerank.provider#` `http`, e.g. `http://localhost:8080` (requests go to `{baseUrl}/rerank`). Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reload-models' }),
  'rerank.model': def({ scope: 'machine', type: 'string', default: '', description: 'Model name sent to the rerank server (e.g. `BAAI/bge-reranker-v2-m3`); empty: the server\'s default. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reload-models' }),
  'embedding.provider': def({
    scope: 'machine',
    type: 'string',
    default: 'local',
    enum: ['local', 'openai-compatible'],
    enumDescriptions: ['The model in `#sift.models.embedding#`, run locally.', 'An OpenAI-compatible embeddings server (`POST {baseUrl}/embeddings`: OpenAI, Azure OpenAI, Ollama, LM Studio, vLLM, llama.cpp, text-embeddings-inference) at `#sift.embedding.baseUrl#`; the key, if any, from **Sift: Set Embedding API Key** (secret storage, sent only to that server), else the `SIFT_EMBEDDING_API_KEY` environment variable. Chunk text and questions are sent to that server.'],
    description: 'Who embeds chunks and questions: `local` or `openai-compatible`. Changing it rebuilds the index. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.',
    effect: 'reindex',
  }),
  'embedding.baseUrl': def({ scope: 'machine', type: 'string', default: '', description: 'Embedding server base URL for `#sift.embedding.provider#` `openai-compatible`, e.g. `http://localhost:11434/v1` (requests go to `{baseUrl}/embeddings`). Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reindex' }),
  'embedding.model': def({ scope: 'machine', type: 'string', default: '', description: 'Model name sent to the embedding server (e.g. `nomic-embed-text`, `text-embedding-3-small`); empty: the server\'s default. Changing it rebuilds the index. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reindex' }),
  'embedding.dimensions': def({ scope: 'machine', type: 'number', default: 0, minimum: 0, maximum: 8192, description: 'Vector size asked of the embedding server, for models that can shorten their vectors; 0: the model\'s own. Changing it rebuilds the index. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reindex' }),
  'embedding.batchSize': def({ scope: 'machine', type: 'number', default: 64, minimum: 1, maximum: 2048, description: 'Texts per request to the embedding server. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'none' }),
  'embedding.concurrency': def({ scope: 'machine', type: 'number', default: 4, minimum: 1, maximum: 64, description: 'Requests to the embedding server in flight at once. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'none' }),
  'embedding.queryPrefix': def({ scope: 'machine', type: 'string', default: '', description: 'Put before each question sent to the embedding server, for models that need it (e.g. `search_query: ` for nomic, `query: ` for e5). Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'none' }),
  'embedding.documentPrefix': def({ scope: 'machine', type: 'string', default: '', description: 'Put before each chunk sent to the embedding server (e.g. `search_document: ` for nomic, `passage: ` for e5). Changing it rebuilds the index. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reindex' }),
  'models.localFolder': def({ scope: 'machine', type: 'string', default: '', description: 'A folder holding models in transformers.js layout (`<folder>/<org>/<name>/config.json`, `onnx/model_quantized.onnx`, …). Models found there are used without downloading. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reindex' }),
  'models.allowDownloads': def({ scope: 'machine', type: 'boolean', default: true, description: 'Download missing models from the Hugging Face hub (with progress) into the extension\'s storage. Off: only the local folder and already downloaded models are used; Sift works with keyword search meanwhile. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reload-models' }),
  'models.hubUrl': def({ scope: 'machine', type: 'string', default: '', description: 'A Hugging Face hub mirror to download models from (default https://huggingface.co/). Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.', effect: 'reload-models' }),
  'retrieval.candidates': def({ type: 'number', default: 50, minimum: 5, maximum: 200, description: 'Candidates (K) fused from dense and keyword retrieval and given to the reranker.', effect: 'none' }),
  'retrieval.topN': def({ type: 'number', default: 8, minimum: 1, maximum: 30, description: 'Sources (N) given to the LLM after ranking.', effect: 'none' }),
  'retrieval.tokenBudget': def({ type: 'number', default: 3000, minimum: 200, maximum: 100000, description: 'Token budget for the sources in the prompt.', effect: 'none' }),
  'retrieval.questionPrior': def({ type: 'boolean', default: true, description: 'Question understanding orders the ranked files: implementation files first for a bug report, a traceback or a "where is X implemented" question (tests or docs first when the question asks about them), files that define a symbol the question names, files a traceback frame or a written path points at, and files importing or imported by them. Provenance shows what matched. Off: the ranking is retrieval and reranking alone. Measured in docs/eval.md (`sift eval` variants `+q`).', effect: 'none' }),
  'rerank.enabled': def({ type: 'boolean', default: true, description: 'Rerank candidates with the cross-encoder by default (toggle per question in the chat).', effect: 'none' }),
  'rerank.maxTokens': def({ type: 'number', default: DEFAULT_RERANK_MAX_LENGTH, minimum: 64, maximum: 512, description: 'Tokens the cross-encoder reads per (question, source) pair; longer sources are cut. Reranking time grows with it: 50 candidates take ≈ 2 s at 256 and ≈ 0.9 s at 128 on a 2-core laptop CPU (docs/performance.md). Measure the quality cost of a shorter setting on your code with `sift eval --rerank-max-tokens`.', effect: 'none' }),
  'ltr.enabled': def({ type: 'boolean', default: false, description: 'Add the learning-to-rank stage to reranking (after the cross-encoder): a small model scored in-process from retrieval, file and identifier features, plus the editor\'s context (open files, recent edits, cursor) when learning from opened sources has given those weight. Trained and measured on keyword (BM25) candidates only; see docs/eval.md.', effect: 'none' }),
  'ltr.learnFromOpens': def({ type: 'boolean', default: false, description: 'With learning-to-rank on, learn from the sources you open after an answer: a small bounded correction on top of the shipped model (editor signals and files opened before), per workspace, stored only in VS Code\'s workspace storage on this machine, never sent anywhere. Off by default: in a simulation it did not measurably help (docs/eval.md). **Sift: Clear Learned Ranking Feedback** forgets what was learned.', effect: 'none' }),
  'index.include': def({ type: 'array', items: { type: 'string' }, default: [] as string[], description: 'Glob patterns; when not empty, only matching files are indexed (e.g. `src/**`).', effect: 'reindex' }),
  'index.exclude': def({ type: 'array', items: { type: 'string' }, default: [] as string[], description: 'Glob patterns never indexed, beside .gitignore, .siftignore and `files.exclude`.', effect: 'reindex' }),
  'index.maxFileSize': def({ type: 'number', default: 1048576, minimum: 1024, description: 'Files larger than this many bytes are not indexed.', effect: 'reindex' }),
  'index.secretPatterns': def({ type: 'array', items: { type: 'string' }, default: [] as string[], description: 'Extra secret-file patterns (.gitignore syntax) never indexed or sent, beside the built-in list (`.env*`, keys, certificates, credential files). A workspace may add patterns; exceptions (`!pattern`) count only from user settings.', effect: 'reindex' }),
  'index.useFilesExclude': def({ type: 'boolean', default: true, description: 'Also skip what VS Code\'s `files.exclude` hides.', effect: 'reindex' }),
  'index.store': def({
    scope: 'machine',
    type: 'string',
    default: '',
    description: 'Team index: a `postgres://user@host:5432/db?sslmode=verify-full` URL of the PostgreSQL + pgvector database CI indexes into (docs/team-index.md). Questions then search the team index at the nearest indexed commit of your branch, with your own changes overlaid from the local index. **No password here**: store it with **Sift: Set Team Index Password** (VS Code\'s secret storage; sent only to this server). Empty: the local index only. Read from user (or remote machine) settings only: a workspace\'s settings cannot change it.',
    effect: 'none',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T extends readonly (infer U)[] ? U[] : T;
export type SiftSettings = { [K in SettingKey]: Widen<(typeof SETTINGS)[K]['default']> };

/** The `contributes.configuration.properties` object package.json must contain. */
export function contributedProperties(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, d] of Object.entries(SETTINGS) as [string, Def<unknown>][]) {
    const { effect: _effect, description, ...rest } = d;
    out[`sift.${key}`] = { ...rest, markdownDescription: description };
  }
  return out;
}
