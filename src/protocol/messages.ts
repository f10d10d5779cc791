/**
 * The one message protocol between the extension host and the chat webview. Both sides import
 * these schemas and validate every message they receive: a TypeScript type is not a check.
 * Imported by the host (src/vscode) and the webview (webview/); never imports vscode.
 */
import { z } from 'zod';
import { fitToSchema, parseEach } from './fit';

/** Turns a history message may carry (the host keeps fewer). */
const MAX_HISTORY = 200;

const int = z.number().int();
const shortText = z.string().max(20_000);

export const Variant = z.enum(['reranked', 'notReranked']);
export type Variant = z.infer<typeof Variant>;

export const Scores = z.object({
  dense: z.number().optional(),
  lexical: z.number().optional(),
  fused: z.number(),
  rerank: z.number().optional(),
  ltr: z.number().optional(),
});

export const Retriever = z.enum(['dense', 'lexical']);

export const Carried = z.enum(['previous-turn', 'mentioned']);

export const Source = z.object({
  n: int.min(1),
  folder: z.string().max(500).optional(),
  path: z.string().max(2000),
  startLine: int.min(1),
  endLine: int.min(1),
  language: z.string().max(50),
  symbols: z.array(z.string().max(500)).max(50),
  retrievers: z.array(Retriever).max(2),
  rankBefore: int.min(1),
  rankAfter: int.min(1),
  scores: Scores,
  chunks: int.min(1),
  /** A snippet of the source (the host cuts long sources). */
  text: z.string().max(100_000),
  /** What the editor knew about its file when the learning-to-rank stage ranked it. */
  editor: z.object({ open: z.boolean().optional(), edited: z.boolean().optional(), nearCursor: z.boolean().optional() }).optional(),
  /** Kept as a candidate because an earlier turn cited its file, or the question mentioned it. */
  carried: Carried.optional(),
  /** With a team index: from the team's commit or the developer's local overlay. */
  origin: z.enum(['team', 'local']).optional(),
});
export type Source = z.infer<typeof Source>;

export const Ranked = z.object({
  chunkId: z.string().max(100),
  folder: z.string().max(500).optional(),
  path: z.string().max(2000),
  startLine: int.min(1),
  endLine: int.min(1),
  symbols: z.array(z.string().max(500)).max(50),
  retrievers: z.array(Retriever).max(2),
  rankBefore: int.min(1),
  rankAfter: int.min(1),
  scores: Scores,
  carried: Carried.optional(),
  origin: z.enum(['team', 'local']).optional(),
});
export type Ranked = z.infer<typeof Ranked>;

export const Citation = z.object({ n: int, verified: z.boolean(), count: int });

export const Timings = z.object({
  embed: z.number(),
  dense: z.number(),
  lexical: z.number(),
  fuse: z.number(),
  rerank: z.number(),
  firstToken: z.number().nullable(),
  total: z.number(),
});

/** One answer (one side of a comparison). */
export const Answer = z.object({
  variant: Variant,
  retrieval: z.enum(['hybrid', 'lexical-only']),
  /** Chunks with a vector, of all chunks (dense search covers `share` while embedding catches up). */
  coverage: z.object({ embedded: int.min(0), chunks: int.min(0), share: z.number().min(0).max(1) }).optional(),
  reranked: z.boolean(),
  answerKind: z.enum(['llm', 'retrieval-only', 'error', 'pending']),
  answer: z.string().max(1_000_000),
  error: z.object({ kind: z.string().max(50), message: shortText }).optional(),
  citations: z.array(Citation).max(500),
  sources: z.array(Source).max(100),
  ranking: z.array(Ranked).max(500),
  timings: Timings.optional(),
  notices: z.array(shortText).max(20),
  /** The query retrieval used for a follow-up (made standalone from the conversation). */
  searchedFor: shortText.optional(),
});
export type Answer = z.infer<typeof Answer>;

/** An editor range pinned to the next question (`#selection`): always in the context, exact lines. */
export const Pin = z.object({
  folder: z.string().max(500).optional(),
  path: z.string().min(1).max(2000),
  startLine: int.min(1),
  endLine: int.min(1),
  language: z.string().max(50),
  text: z.string().max(50_000),
});
export type Pin = z.infer<typeof Pin>;

export const Turn = z.object({
  id: z.string().max(100),
  /** The conversation the turn belongs to: follow-ups see the earlier turns of the same conversation. */
  conversationId: z.string().max(100).optional(),
  question: shortText,
  compare: z.boolean(),
  rerank: z.boolean(),
  askedAt: z.string().max(40),
  status: z.enum(['running', 'done', 'error', 'stopped']),
  /** Error that prevented any answer (e.g. index unavailable). */
  failure: shortText.optional(),
  answers: z.array(Answer).max(2),
  /** What the question was scoped to besides its text (a mentioned symbol's file, pinned ranges): Retry asks the same. */
  scope: z.object({ paths: z.array(z.string().min(1).max(2000)).max(20).optional(), pins: z.array(Pin).max(5).optional() }).optional(),
});
export type Turn = z.infer<typeof Turn>;

export const FolderStatus = z.object({
  name: z.string().max(500),
  state: z.enum(['idle', 'indexing', 'ready', 'paused', 'error', 'untrusted']),
  filesDone: int.optional(),
  filesTotal: int.optional(),
  chunks: int.optional(),
  message: shortText.optional(),
  /** Who embeds the folder's chunks (from the indexer's model event). */
  embedder: z.object({ provider: z.string().max(100), model: z.string().max(2000) }).optional(),
  /** While the keyword pass runs: files searchable by keywords so far (questions are answered from them), of the folder's total. */
  keyword: z.object({ searchable: int.min(0), total: int.min(0), percent: z.number().min(0).max(100) }).optional(),
  /** Dense-search coverage and, while the dense pass runs, its smoothed rate and ETA (core/indexing/denseProgress.ts). */
  dense: z
    .object({
      embedded: int,
      chunks: int,
      percent: z.number().min(0).max(100),
      running: z.boolean(),
      rate: z.number().min(0).optional(),
      etaSeconds: z.number().min(0).optional(),
    })
    .optional(),
});

export const IndexStatus = z.object({
  state: z.enum(['idle', 'indexing', 'ready', 'paused', 'error', 'untrusted', 'no-folder']),
  folders: z.array(FolderStatus).max(100),
  /** Which retrieval is possible: hybrid, or lexical-only with the reason. */
  retrieval: z.enum(['hybrid', 'lexical-only', 'unknown']),
  /** Models that could not be loaded, with the user-facing reason. */
  missingModels: z.array(z.object({ role: z.enum(['embedding', 'reranker']), model: z.string().max(2000), message: shortText })).max(4),
  message: shortText.optional(),
});
export type IndexStatus = z.infer<typeof IndexStatus>;

export const LlmInfo = z.object({
  configured: z.boolean(),
  model: z.string().max(500).optional(),
  baseURL: z.string().max(2000).optional(),
  hasApiKey: z.boolean(),
});
export type LlmInfo = z.infer<typeof LlmInfo>;

/** A past conversation as the panel lists it (most recent first). */
export const ConversationSummary = z.object({
  id: z.string().max(100),
  /** The first question, on one line, cut. */
  title: z.string().max(200),
  startedAt: z.string().max(40),
  updatedAt: z.string().max(40),
  turns: int.min(0),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

/** What `@` completes: a file, a folder or a symbol from the index. */
export const MentionItem = z.object({
  kind: z.enum(['file', 'folder', 'symbol']),
  /** Inserted after `@`: a path (folder-qualified in multi-root; folders end with `/`) or a symbol name. */
  insert: z.string().min(1).max(2000),
  /** The file that holds a symbol (folder-qualified like `insert`); absent for files and folders. */
  file: z.string().max(2000).optional(),
  line: int.min(1).optional(),
});
export type MentionItem = z.infer<typeof MentionItem>;


const MAX_CONVERSATIONS = 100;

// ---------------------------------------------------------------- webview → host

export const HostCommand = z.enum(['setApiKey', 'openSettings', 'reindex', 'showLogs', 'resume']);

export const FromWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({
    type: z.literal('ask'),
    question: shortText.min(1),
    rerank: z.boolean(),
    compare: z.boolean(),
    /** Files (or folders) the question is scoped to besides its `@path` mentions (a mentioned symbol's file). */
    paths: z.array(z.string().min(1).max(2000)).max(20).optional(),
    /** Editor ranges pinned as sources. */
    pins: z.array(Pin).max(5).optional(),
  }),
  z.object({ type: z.literal('stop'), id: z.string().max(100) }),
  z.object({ type: z.literal('retry'), id: z.string().max(100) }),
  z.object({
    type: z.literal('openSource'),
    folder: z.string().max(500).optional(),
    path: z.string().min(1).max(2000),
    startLine: int.min(1),
    endLine: int.min(1),
    /** Which answer's source n was opened (for learning from opened sources); absent for ranking-list clicks. */
    turn: z.string().max(100).optional(),
    variant: Variant.optional(),
    n: int.min(1).max(100).optional(),
  }),
  z.object({ type: z.literal('setRerank'), enabled: z.boolean() }),
  z.object({ type: z.literal('clearHistory') }),
  /** Later questions start without the earlier turns (which stay listed). */
  z.object({ type: z.literal('newConversation') }),
  /** Shows a past conversation; later questions continue it. */
  z.object({ type: z.literal('openConversation'), id: z.string().min(1).max(100) }),
  /** Deletes a past conversation (the webview asked the user to confirm). */
  z.object({ type: z.literal('deleteConversation'), id: z.string().min(1).max(100) }),
  /** `@` completion: files, folders and symbols of the index matching `prefix`; answered with `completions` of the same `requestId`. */
  z.object({ type: z.literal('complete'), requestId: int.min(0), prefix: z.string().max(200) }),
  z.object({ type: z.literal('command'), command: HostCommand }),
]);
export type FromWebview = z.infer<typeof FromWebview>;

// ---------------------------------------------------------------- host → webview

export const ToWebview = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    history: z.array(Turn).max(MAX_HISTORY),
    rerank: z.boolean(),
    status: IndexStatus,
    llm: LlmInfo,
    conversations: z.array(ConversationSummary).max(MAX_CONVERSATIONS).optional(),
    conversationId: z.string().max(100).optional(),
  }),
  z.object({ type: z.literal('status'), status: IndexStatus }),
  z.object({ type: z.literal('llm'), llm: LlmInfo }),
  z.object({ type: z.literal('setRerank'), enabled: z.boolean() }),
  /** A whole turn (new, or replaced after it finished). */
  z.object({ type: z.literal('turn'), turn: Turn }),
  z.object({ type: z.literal('token'), id: z.string().max(100), variant: Variant, text: z.string().max(100_000) }),
  /** The turns shown (the current conversation's); `conversationId` names it. */
  z.object({ type: z.literal('history'), history: z.array(Turn).max(MAX_HISTORY), conversationId: z.string().max(100).optional() }),
  /** The past conversations, most recent first, and the current one. */
  z.object({ type: z.literal('conversations'), items: z.array(ConversationSummary).max(MAX_CONVERSATIONS), current: z.string().max(100) }),
  z.object({ type: z.literal('completions'), requestId: int.min(0), items: z.array(MentionItem).max(50), notice: shortText.optional() }),
  /** Pins an editor range (Ask About Selection) as a source of the next question. */
  z.object({ type: z.literal('pin'), pin: Pin }),
  z.object({ type: z.literal('prefill'), question: shortText, submit: z.boolean(), compare: z.boolean().optional() }),
]);
export type ToWebview = z.infer<typeof ToWebview>;

/** Validates a message; returns it typed, or an error description. */
export function parseFromWebview(data: unknown): { ok: true; message: FromWebview } | { ok: false; error: string } {
  const r = FromWebview.safeParse(data);
  return r.success ? { ok: true, message: r.data } : { ok: false, error: summarize(r.error) };
}

export function parseToWebview(data: unknown): { ok: true; message: ToWebview } | { ok: false; error: string } {
  const r = ToWebview.safeParse(data);
  return r.success ? { ok: true, message: r.data } : { ok: false, error: summarize(r.error) };
}

/**
 * What the webview uses: the message fitted to the schema's bounds, then validated; in a message
 * carrying a history, a turn that still does not validate is dropped (and described in `dropped`)
 * while the rest of the message is kept. One bad turn never costs the whole state.
 */
export function parseToWebviewLenient(data: unknown): { ok: true; message: ToWebview; dropped: string[] } | { ok: false; error: string } {
  const fitted = fitToSchema(ToWebview, data);
  const whole = ToWebview.safeParse(fitted);
  if (whole.success) return { ok: true, message: whole.data, dropped: [] };
  const type = fitted && typeof fitted === 'object' ? (fitted as { type?: unknown }).type : undefined;
  if (type !== 'init' && type !== 'history') return { ok: false, error: summarize(whole.error) };
  const { items, dropped } = parseTurns((fitted as { history?: unknown }).history);
  const rest = ToWebview.safeParse({ ...(fitted as object), history: items });
  return rest.success ? { ok: true, message: rest.data, dropped } : { ok: false, error: summarize(rest.error) };
}

/** A history as read from storage or a message: each turn fitted and validated, bad ones dropped and described. */
export function parseTurns(history: unknown): { items: Turn[]; dropped: string[] } {
  const list = Array.isArray(history) ? history.slice(-MAX_HISTORY) : history;
  return parseEach(Turn, list, (i, e) => `turn ${i} dropped (${e})`);
}

/** Any message for the webview, cut to the protocol's bounds (the host sends only what fits). */
export function fitToWebview(message: ToWebview): ToWebview {
  return fitToSchema(ToWebview, message) as ToWebview;
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
