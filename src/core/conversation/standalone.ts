import { createHash } from 'node:crypto';
import { type ChatModel, openAiChatModel } from '../llm/chatModel';
import { type LlmConfig, llmConfigured } from '../llm/llm';
import type { ChatMessage } from '../llm/prompt';
import { redactSecretsInText } from '../discovery/redact';
import { errorMessage } from '../util/errors';
import type { Conversation, TurnSource } from './conversation';

/** How the retrieval query of a follow-up was made. */
export type StandaloneMethod = 'first-turn' | 'self-contained' | 'llm' | 'fallback';

export interface StandaloneQuery {
  /** What retrieval searches for. */
  query: string;
  method: StandaloneMethod;
  /** Files the previous turns cited: they stay candidates ('previous-turn' in provenance). */
  priorFiles: { folder?: string; path: string }[];
  /** Why the LLM rewrite was not used (it failed), when it was tried. */
  rewriteError?: string;
}

export interface StandaloneOptions {
  /** With an LLM configured, the follow-up is rewritten by one short call. */
  llm?: Partial<LlmConfig>;
  /** The model that answers when it is not the OpenAI-compatible endpoint (the editor's models): it rewrites too. */
  model?: ChatModel;
  /** Rewrites by content hash (shared across calls; bounded). */
  cache?: Map<string, string>;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** How many earlier turns feed the rewrite and the fallback (newest first). */
  turns?: number;
}

const CACHE_MAX = 500;
const REWRITE_MAX_CHARS = 400;
const defaultCache = new Map<string, string>();

const REWRITE_SYSTEM = [
  'You rewrite a follow-up question about a codebase into one standalone search query.',
  'Use the conversation to resolve words like "it", "this", "that" and elliptical questions into the concrete identifiers, files and concepts they refer to.',
  'Reply with the query only: one line, no quotes, no explanation.',
].join(' ');

/**
 * The follow-up made standalone for retrieval. With an LLM configured: a short rewrite call
 * (cached by content hash, logged). Without one, or when the call fails: the follow-up's own
 * words (twice: they weigh double in BM25) plus the previous turns' key terms (identifiers and
 * nouns of their questions, symbols and file names of their cited sources), once each.
 * Either way the files the previous turns cited are returned as a prior.
 */
export async function standaloneQuery(conversation: Conversation, followUp: string, opts: StandaloneOptions = {}): Promise<StandaloneQuery> {
  const recent = conversation.turns.slice(-(opts.turns ?? 2));
  if (!recent.length) return { query: followUp, method: 'first-turn', priorFiles: [] };
  // A new question that names what it asks about ("flushTelemetryQueue", "how is the cache
  // invalidated?") is searched as asked: earlier turns' terms and files would only pull it back.
  if (!refersBack(followUp)) return { query: followUp, method: 'self-contained', priorFiles: [] };
  const priorFiles = filesOf(recent.flatMap((t) => t.sources));
  let rewriteError: string | undefined;
  const model = opts.model ?? (llmConfigured(opts.llm) ? rewriteModel(opts.llm) : undefined);
  if (model) {
    try {
      const query = await rewrite(model, recent, followUp, opts);
      if (query) return { query, method: 'llm', priorFiles };
      rewriteError = 'the rewrite was empty';
    } catch (err) {
      rewriteError = errorMessage(err);
    }
    opts.log?.(`Follow-up rewrite failed (${rewriteError}): using the previous turns' key terms.`);
  }
  const query = fallbackQuery(recent, followUp);
  return { query, method: 'fallback', priorFiles, ...(rewriteError ? { rewriteError } : {}) };
}

const REFERRING = /\b(it|its|it's|this|that|these|those|they|them|their|there|here|same|above|previous|earlier|former|latter|also|too|else|instead|again|one|ones)\b|^\s*(and|but|so|then|or|what about|how about)\b/i;

/**
 * Whether a follow-up leans on the conversation: a pronoun or demonstrative ("where is this
 * tested?"), a leading conjunction ("and the tests?"), or a few words without an identifier.
 */
export function refersBack(followUp: string): boolean {
  const text = followUp.trim();
  if (REFERRING.test(text)) return true;
  const ws = words(text);
  return ws.length <= 3 && !ws.some((w) => isIdentifier(w) || w.includes('/') || w.includes('.'));
}

/** The deterministic standalone query: the follow-up twice, then each earlier key term once. */
export function fallbackQuery(turns: Conversation['turns'], followUp: string): string {
  const own = followUp.trim();
  const seen = new Set(words(own).map((w) => w.toLowerCase()));
  const terms: string[] = [];
  const add = (w: string) => {
    const k = w.toLowerCase();
    if (seen.has(k) || terms.length >= 40) return;
    seen.add(k);
    terms.push(w);
  };
  for (const t of [...turns].reverse()) {
    for (const w of keyTerms(t.question)) add(w);
    for (const s of t.sources.slice(0, 4)) {
      for (const sym of s.symbols.slice(0, 4)) add(sym);
      add(stem(s.path));
    }
  }
  return [own, own, ...terms].filter(Boolean).join(' ');
}

/** Identifiers and content words of a question (stop words and short words left out). */
export function keyTerms(text: string): string[] {
  return words(text).filter((w) => isIdentifier(w) || (w.length >= 3 && !STOP.has(w.toLowerCase())));
}

function words(text: string): string[] {
  return text.slice(0, 4000).match(/[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/g) ?? [];
}

function isIdentifier(w: string): boolean {
  return /[a-z][A-Z]|_|\./.test(w) || /^[A-Z][a-z]+[A-Z]/.test(w);
}

function stem(p: string): string {
  const base = p.split('/').pop() ?? p;
  return base.replace(/\.[^.]*$/, '');
}

function filesOf(sources: TurnSource[]): { folder?: string; path: string }[] {
  const seen = new Map<string, { folder?: string; path: string }>();
  for (const s of sources) seen.set(`${s.folder ?? ''}\u0000${s.path}`, { ...(s.folder ? { folder: s.folder } : {}), path: s.path });
  return [...seen.values()].slice(0, 6);
}

/** The endpoint's model for a short rewrite: few tokens, no sampling, a small answer cap (same client and limits). */
function rewriteModel(llm: LlmConfig): ChatModel {
  return openAiChatModel({ ...llm, maxTokens: 80, temperature: 0, maxAnswerChars: REWRITE_MAX_CHARS * 4 });
}

async function rewrite(model: ChatModel, turns: Conversation['turns'], followUp: string, opts: StandaloneOptions): Promise<string> {
  const history = turns
    .map((t) => `User: ${t.question.slice(0, 1500)}\nAssistant: ${t.answer.slice(0, 1500)}${t.sources.length ? `\n(Sources: ${t.sources.map((s) => s.path).join(', ')})` : ''}`)
    .join('\n\n');
  const messages: ChatMessage[] = [
    { role: 'system', content: REWRITE_SYSTEM },
    { role: 'user', content: redactSecretsInText(`Conversation:\n${history}\n\nFollow-up: ${followUp.slice(0, 2000)}\n\nStandalone search query:`).text },
  ];
  const cache = opts.cache ?? defaultCache;
  const key = createHash('sha256').update(JSON.stringify([model.label, opts.model ? '' : (opts.llm?.baseURL ?? ''), messages])).digest('hex');
  const hit = cache.get(key);
  if (hit !== undefined) {
    opts.log?.(`Follow-up rewritten (cached): searched for: ${hit}`);
    return hit;
  }
  const text = await model.answer(messages, { onToken: () => {} }, opts.signal);
  const query = (text.split('\n').map((l) => l.trim()).find(Boolean) ?? '').replace(/^["'`]+|["'`]+$/g, '').slice(0, REWRITE_MAX_CHARS);
  if (query) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, query);
    opts.log?.(`Follow-up rewritten: searched for: ${query}`);
  }
  return query;
}

const STOP = new Set(
  'the and for are but not you all any can had her was one our out has him his how its may new now old see two way who did get let say she too use that this with have from they will would there their what about which when make like time just know take into your some could them than then look only come over think also back after work first well even want because these give most where does why should tested test tests testing code file files function functions call calls called used using show find explain tell please work works handle handled handles happen happens decide decides'.split(' '),
);
