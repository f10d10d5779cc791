import { type Answer, type FromWebview, type IndexStatus, type LlmInfo, Pin, type Ranked, type Source, type ToWebview, type Turn, parseToWebviewLenient, parseTurns } from '../src/protocol/messages';
import { truncate } from '../src/protocol/fit';
import { ConversationList } from './conversations';
import { type Child, h, icon } from './dom';
import { MentionCompleter } from './mentions';
import { PinChips } from './pins';
import { highlightCode, renderMarkdown } from './markdown';

/**
 * The chat webview. Everything it shows comes from validated host messages; everything it sends
 * is a protocol message the host validates again. No inline scripts or styles (strict CSP); all
 * text from files and models goes through textContent or the sanitising markdown renderer.
 */
interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

interface State {
  history: Turn[];
  rerank: boolean;
  status?: IndexStatus;
  llm?: LlmInfo;
  draft: string;
}
// Saved state is parsed like any message: a turn that does not fit is dropped, the rest kept.
const saved = vscode.getState() as { history?: unknown; rerank?: unknown; draft?: unknown; pins?: unknown } | undefined;
const restored = parseTurns(saved?.history ?? []);
for (const d of restored.dropped) console.warn(`Sift: saved ${d}`);
const state: State = { history: restored.items, rerank: typeof saved?.rerank === 'boolean' ? saved.rerank : true, draft: typeof saved?.draft === 'string' ? saved.draft : '' };

function persist(): void {
  vscode.setState({ history: state.history, rerank: state.rerank, draft: input.value, pins: pins.list() });
}

function send(message: FromWebview): void {
  vscode.postMessage(message);
}

// ------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const statusLine = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
const notices = h('div', { class: 'notices' });
const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
const input = h('textarea', { id: 'question', rows: '3', placeholder: 'Ask about this codebase…  (Enter to ask, Shift+Enter for a new line)', 'aria-label': 'Question' });
const rerankBox = h('input', { type: 'checkbox', id: 'rerank-toggle', role: 'switch' });
const askButton = h('button', { class: 'primary', id: 'ask', title: 'Ask (Enter)' }, icon('send'), ' Ask');
const compareButton = h('button', { id: 'compare', title: 'Ask and compare answers with and without reranking' }, icon('split-horizontal'), ' Compare');
const newConversationButton = h('button', { id: 'new-conversation', title: 'New conversation: later questions do not use the earlier ones', 'aria-label': 'New conversation' }, icon('add'), ' New');
const conversations = new ConversationList(send, () => input.focus());
const mentions = new MentionCompleter(input, send);
const pins = new PinChips(persist, () => input.focus());
// Saved pins are parsed like any message: one that does not fit is dropped.
pins.set((Array.isArray(saved?.pins) ? saved.pins : []).flatMap((p) => (Pin.safeParse(p).success ? [Pin.parse(p)] : [])));
const composer = h(
  'div',
  { class: 'composer' },
  pins.el,
  h('div', { class: 'input-wrap' }, input, mentions.list),
  mentions.announcer,
  h('div', { class: 'composer-row' }, h('label', { class: 'toggle', for: 'rerank-toggle', title: 'Rerank candidates with the cross-encoder' }, rerankBox, ' Rerank'), h('span', { class: 'spacer' }), conversations.toggle, newConversationButton, compareButton, askButton),
);
app.append(h('header', {}, statusLine, notices), conversations.panel, log, composer);
input.value = state.draft;

function submit(compare: boolean): void {
  // The protocol carries 20,000 characters; the host cuts further and says so in the answer.
  const question = truncate(input.value.trim(), 20_000);
  if (!question) {
    input.focus();
    return;
  }
  const paths = mentions.pathsFor(question);
  const pinned = pins.list();
  send({ type: 'ask', question, rerank: state.rerank, compare, ...(paths.length ? { paths } : {}), ...(pinned.length ? { pins: pinned } : {}) });
  input.value = '';
  mentions.reset();
  persist();
}

askButton.addEventListener('click', () => submit(false));
compareButton.addEventListener('click', () => submit(true));
newConversationButton.addEventListener('click', () => {
  // The host answers with the (empty) new conversation; pins belong to the old one.
  send({ type: 'newConversation' });
  pins.clear();
  input.focus();
});
input.addEventListener('keydown', (e) => {
  if (mentions.handleKeydown(e)) return;
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit(e.altKey);
  }
});
input.addEventListener('input', () => persist());
rerankBox.addEventListener('change', () => {
  state.rerank = rerankBox.checked;
  send({ type: 'setRerank', enabled: state.rerank });
  persist();
});

// Answers contain no anchors (webview/markdownHtml.ts); should one ever appear, it opens nothing:
// stopped in the capture phase, before VS Code's own link handling sees the click.
for (const type of ['click', 'auxclick'] as const) {
  document.addEventListener(
    type,
    (e) => {
      if ((e.target as Element | null)?.closest?.('a, area')) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    },
    true,
  );
}

// Citation and source clicks are delegated: elements are re-rendered while streaming.
log.addEventListener('click', (e) => {
  const target = (e.target as HTMLElement).closest('[data-cite],[data-open],[data-action],a') as HTMLElement | null;
  if (!target) return;
  if (target.tagName === 'A') {
    e.preventDefault(); // links in answers never navigate the webview
    return;
  }
  if (target.dataset.cite) {
    const answerEl = target.closest('[data-answer]') as HTMLElement | null;
    const turnId = answerEl?.dataset.turn;
    const variant = answerEl?.dataset.answer as Answer['variant'] | undefined;
    const source = turnId && variant ? findSource(turnId, variant, Number(target.dataset.cite)) : undefined;
    if (source) openSource(source, { turn: turnId!, variant: variant!, n: source.n });
    return;
  }
  if (target.dataset.open) {
    const [turnId, variant, n] = target.dataset.open.split('|');
    const source = findSource(turnId!, variant as Answer['variant'], Number(n));
    if (source) openSource(source, { turn: turnId!, variant: variant as Answer['variant'], n: source.n });
    return;
  }
  const action = target.dataset.action;
  const turnId = target.dataset.turn;
  if (action === 'stop' && turnId) send({ type: 'stop', id: turnId });
  else if (action === 'retry' && turnId) send({ type: 'retry', id: turnId });
  else if (action === 'setApiKey' || action === 'openSettings' || action === 'reindex' || action === 'showLogs' || action === 'resume') send({ type: 'command', command: action });
});

function findSource(turnId: string, variant: Answer['variant'], n: number): Source | undefined {
  return state.history.find((t) => t.id === turnId)?.answers.find((a) => a.variant === variant)?.sources.find((s) => s.n === n);
}

/** Opens a source in the editor; `from` names the answer and source number (the host learns from opened sources). */
function openSource(s: Source | Ranked, from?: { turn: string; variant: Answer['variant']; n: number }): void {
  send({ type: 'openSource', folder: s.folder, path: s.path, startLine: s.startLine, endLine: s.endLine, ...from });
}

// ------------------------------------------------------------ rendering

/** The keyword pass's files; once every file is keyword-searchable, the dense pass's coverage, rate and time left. */
function indexingText(s: IndexStatus, done: number, total: number, chunks: number): string {
  const lexicalPass = s.folders.some((f) => f.state === 'indexing' && !f.dense?.running);
  const dense = s.folders.flatMap((f) => (f.dense?.running ? [f.dense] : []));
  if (!lexicalPass && dense.length) {
    const embedded = dense.reduce((n, d) => n + d.embedded, 0);
    const all = dense.reduce((n, d) => n + d.chunks, 0);
    const rate = dense.reduce((n, d) => n + (d.rate ?? 0), 0);
    const eta = Math.max(...dense.map((d) => d.etaSeconds ?? 0));
    const pct = all ? Math.floor((100 * embedded) / all) : 0;
    return `Searchable by keywords · embedding ${pct} %${rate ? ` · ${rate >= 10 ? Math.round(rate) : rate} chunks/s` : ''}${eta ? ` · ${duration(eta)} left` : ''}`;
  }
  if (total === 0) return chunks > 0 ? 'Checking for changes…' : 'Finding files…';
  // Questions are answered from what the keyword pass has committed so far: say how much that is.
  const keyword = s.folders.flatMap((f) => (f.keyword ? [f.keyword] : []));
  const searchable = keyword.reduce((n, k) => n + k.searchable, 0);
  const all = keyword.reduce((n, k) => n + k.total, 0);
  const covered = keyword.length ? ` · ${all ? Math.floor((100 * searchable) / all) : 100} % searchable` : '';
  return `Indexing ${done}/${total} files (${Math.floor((100 * done) / total)}%)${covered}…`;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function renderStatus(): void {
  const s = state.status;
  statusLine.replaceChildren();
  if (!s) return;
  const chunks = s.folders.reduce((n, f) => n + (f.chunks ?? 0), 0);
  const done = s.folders.reduce((n, f) => n + (f.filesDone ?? 0), 0);
  const total = s.folders.reduce((n, f) => n + (f.filesTotal ?? 0), 0);
  const text: Record<IndexStatus['state'], string> = {
    idle: 'Index: not built yet',
    indexing: indexingText(s, done, total, chunks),
    ready: `Index ready: ${chunks.toLocaleString('en-US')} chunks${s.retrieval === 'lexical-only' ? ' · keyword search only' : ''}`,
    paused: 'Indexing paused',
    error: `Indexing failed: ${s.message ?? 'see logs'}`,
    untrusted: s.message ?? 'Workspace not trusted: nothing is indexed.',
    'no-folder': s.message ?? 'Open a folder to use Sift.',
  };
  const iconName: Record<IndexStatus['state'], string> = { idle: 'circle-outline', indexing: 'sync', ready: 'check', paused: 'debug-pause', error: 'error', untrusted: 'shield', 'no-folder': 'folder' };
  statusLine.dataset.state = s.state;
  statusLine.append(h('span', { class: 'state' }, icon(iconName[s.state]), ' ', text[s.state]));
  if (s.state === 'paused') statusLine.append(' ', h('button', { class: 'link', 'data-action': 'resume' }, 'Resume'));
  if (s.state === 'error') statusLine.append(' ', h('button', { class: 'link', 'data-action': 'showLogs' }, 'Show logs'));
  const llm = state.llm;
  if (llm) statusLine.append(h('span', { class: 'llm' }, icon(llm.configured ? 'sparkle' : 'circle-slash'), llm.configured ? ` ${llm.model ?? ''}` : ' no LLM'));

  // Status updates re-render the notices: keep the ones the user opened open.
  const open = new Set([...notices.querySelectorAll('details[open]')].map((d) => (d as HTMLElement).dataset.role));
  notices.replaceChildren();
  for (const m of s.missingModels) {
    const name = m.model.split('/').slice(-2).join('/');
    notices.append(
      h(
        'details',
        { class: 'notice warn', role: 'note', 'data-role': m.role, open: open.has(m.role) },
        h('summary', {}, icon('warning'), ` ${m.role === 'embedding' ? 'Embedding' : 'Reranker'} model ${name} unavailable: `, m.role === 'embedding' ? 'keyword search only.' : 'answers are not reranked.'),
        h('p', {}, m.message.replace(/ Continuing with a lexical-only index.*$/, '')),
        h('p', {}, 'In your user settings, set ', h('code', {}, 'sift.models.localFolder'), ' to a folder holding the models, or allow downloads. ', h('button', { class: 'link', 'data-action': 'openSettings' }, 'Open settings')),
      ),
    );
  }
}

function renderEmpty(): HTMLElement {
  const llm = state.llm;
  return h(
    'div',
    { class: 'empty' },
    h('h2', {}, 'Ask about this codebase'),
    h('p', {}, 'Sift finds the code that answers your question with keyword and semantic search, reranks it, and cites every source. Try: ', h('em', {}, '“where do we retry failed uploads?”')),
    llm?.configured
      ? h('p', {}, icon('sparkle'), ` Answers by ${llm.model ?? 'the configured model'}${llm.baseURL ? ` at ${llm.baseURL}` : ''}.`)
      : h(
          'div',
          { class: 'notice' },
          h('p', {}, icon('info'), ' No LLM is configured, so Sift shows the ranked sources without a written answer.'),
          h('p', {}, 'In your user settings, set ', h('code', {}, 'sift.llm.baseUrl'), ' to any OpenAI-compatible endpoint (Ollama ', h('code', {}, 'http://localhost:11434/v1'), ', LM Studio, vLLM, llama.cpp) and ', h('code', {}, 'sift.llm.model'), '; for OpenAI set an API key.'),
          h('p', {}, h('button', { 'data-action': 'openSettings' }, icon('gear'), ' Open settings'), ' ', h('button', { 'data-action': 'setApiKey' }, icon('key'), ' Set API key')),
        ),
  );
}

function movement(r: { rankBefore: number; rankAfter: number }): HTMLElement {
  const d = r.rankBefore - r.rankAfter;
  if (d > 0) return h('span', { class: 'move up', title: `moved up ${d}` }, `▲${d}`);
  if (d < 0) return h('span', { class: 'move down', title: `moved down ${-d}` }, `▼${-d}`);
  return h('span', { class: 'move same', title: 'unchanged' }, '=');
}

/** Markers for the editor signals the learning-to-rank stage used for this source. */
function editorBadges(s: Source): HTMLElement[] {
  const e = s.editor;
  if (!e) return [];
  const out: HTMLElement[] = [];
  if (e.open) out.push(h('span', { class: 'badge editor', title: 'its file is open in an editor (a learning-to-rank signal)' }, 'open'));
  if (e.edited) out.push(h('span', { class: 'badge editor', title: 'its file was edited recently (a learning-to-rank signal)' }, 'edited'));
  if (e.nearCursor) out.push(h('span', { class: 'badge editor', title: 'near the cursor (a learning-to-rank signal)' }, 'near cursor'));
  return out;
}

function scoreText(s: Source['scores']): string {
  const parts: string[] = [];
  if (s.ltr !== undefined) parts.push(`LTR ${s.ltr.toFixed(2)}`);
  if (s.rerank !== undefined) parts.push(`cross-encoder ${s.rerank.toFixed(2)}`);
  if (s.dense !== undefined) parts.push(`cosine ${s.dense.toFixed(3)}`);
  if (s.lexical !== undefined) parts.push(`BM25 ${s.lexical.toFixed(1)}`);
  parts.push(`RRF ${s.fused.toFixed(4)}`);
  return parts.join(' · ');
}

function location(s: { folder?: string; path: string; startLine: number; endLine: number }): string {
  return `${s.folder ? `${s.folder}/` : ''}${s.path}:${s.startLine}-${s.endLine}`;
}

function renderSource(turn: Turn, a: Answer, s: Source): HTMLElement {
  const code = h('code', { class: `language-${s.language}` });
  const lines = s.text.split('\n');
  code.textContent = lines.slice(0, 12).join('\n') + (lines.length > 12 ? '\n…' : '');
  highlightCode(code, s.language);
  return h(
    'li',
    { class: 'source' },
    h(
      'div',
      { class: 'source-head' },
      h('button', { class: 'source-link', 'data-open': `${turn.id}|${a.variant}|${s.n}`, title: `Open ${location(s)}` }, `[${s.n}] ${location(s)}`),
      ...s.retrievers.map((r) => h('span', { class: `badge ${r}`, title: r === 'dense' ? 'found by semantic (dense) search' : 'found by keyword (BM25) search' }, r === 'dense' ? 'dense' : 'BM25')),
      ...editorBadges(s),
      s.origin ? h('span', { class: `badge origin-${s.origin}`, title: s.origin === 'team' ? 'from the team index (the commit CI indexed)' : 'from your local changes (the overlay on the team index)' }, s.origin) : null,
      h('span', { class: 'rank', title: a.reranked ? 'rank before → after reranking' : 'fused rank' }, a.reranked ? `#${s.rankBefore} → #${s.rankAfter} ` : `#${s.rankAfter}`, a.reranked ? movement(s) : null),
    ),
    h('div', { class: 'scores' }, scoreText(s.scores), s.symbols.length ? ` · ${s.symbols.join('.')}` : ''),
    h('pre', { class: 'snippet' }, code),
  );
}

function renderAnswer(turn: Turn, a: Answer, label?: string): HTMLElement {
  const body = h('div', { class: 'answer-body', 'data-answer': a.variant, 'data-turn': turn.id });
  if (a.answer) body.append(renderMarkdown(a.answer, a.sources.length));
  else if (a.answerKind === 'retrieval-only') body.append(h('p', { class: 'muted' }, 'No LLM configured: here are the ranked sources.'));
  else if (turn.status === 'running') body.append(h('p', { class: 'muted pending' }, icon('loading codicon-modifier-spin'), a.sources.length ? ' Writing the answer…' : ' Searching…'));
  const parts: Child[] = [label ? h('h3', { class: 'variant' }, label) : null, body];
  if (a.error && a.error.kind !== 'aborted') {
    parts.push(h('div', { class: 'notice error', role: 'alert' }, icon('error'), ' ', a.error.message, ' ', h('button', { 'data-action': 'retry', 'data-turn': turn.id }, icon('refresh'), ' Retry')));
  } else if (a.error?.kind === 'aborted') {
    parts.push(h('div', { class: 'muted' }, 'Stopped.'));
  }
  const unverified = a.citations.filter((c) => !c.verified);
  if (unverified.length) parts.push(h('div', { class: 'notice warn' }, icon('warning'), ` Unverified citation${unverified.length > 1 ? 's' : ''}: ${unverified.map((c) => `[${c.n}]`).join(' ')} (no such source was given).`));
  for (const n of a.notices.filter((x) => !/No LLM is configured/.test(x))) parts.push(h('div', { class: 'muted small' }, n));
  if (a.sources.length) {
    parts.push(h('details', { class: 'sources', open: true }, h('summary', {}, `Sources (${a.sources.length})`), h('ol', {}, ...a.sources.map((s) => renderSource(turn, a, s)))));
  }
  if (a.timings) {
    const t = a.timings;
    parts.push(h('div', { class: 'timings muted small' }, `${a.retrieval === 'hybrid' ? 'hybrid' : 'keyword only'} · retrieve ${Math.round(t.embed + t.dense + t.lexical + t.fuse)} ms${a.reranked ? ` · rerank ${Math.round(t.rerank)} ms` : ''}${t.firstToken !== null ? ` · first token ${Math.round(t.firstToken)} ms` : ''} · total ${Math.round(t.total)} ms`));
  }
  return h('div', { class: 'answer', 'data-variant': a.variant }, ...parts);
}

function renderRankingColumns(turn: Turn): HTMLElement | null {
  const reranked = turn.answers.find((a) => a.variant === 'reranked');
  if (!reranked?.ranking.length) return null;
  const top = Math.max(8, reranked.sources.length);
  const before = [...reranked.ranking].sort((x, y) => x.rankBefore - y.rankBefore).slice(0, top);
  const after = reranked.ranking.slice(0, top);
  // Compact rows: file name and lines, the full path in the tooltip, the movement first so narrow columns keep it.
  const short = (r: Ranked) => `${r.path.split('/').pop()}:${r.startLine}-${r.endLine}`;
  const row = (r: Ranked, withMove: boolean, i: number) =>
    h('li', {}, h('span', { class: 'pos' }, `${i + 1}.`), withMove ? movement(r) : null, h('button', { class: 'source-link', title: `Open ${location(r)}`, 'data-rank-open': `${r.chunkId}` }, short(r)));
  const col = (title: string, rows: Ranked[], withMove: boolean) => h('div', { class: 'col' }, h('h4', {}, title), h('ol', { class: 'ranking' }, ...rows.map((r, i) => row(r, withMove, i))));
  const el = h('div', { class: 'columns rankings', 'aria-label': 'Rankings without and with reranking' }, col('Without reranking', before, false), col(reranked.reranked ? 'With reranking' : 'With reranking (unavailable)', after, true));
  el.addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest('[data-rank-open]') as HTMLElement | null;
    const r = b && reranked.ranking.find((x) => x.chunkId === b.dataset.rankOpen);
    if (r) openSource(r);
  });
  return el;
}

function renderTurn(turn: Turn): HTMLElement {
  const head = h(
    'div',
    { class: 'question' },
    h('div', { class: 'q-text' }, turn.question),
    h('div', { class: 'q-meta muted small' }, turn.compare ? 'compare' : turn.rerank ? 'reranked' : 'not reranked'),
    turn.status === 'running' ? h('button', { class: 'stop', 'data-action': 'stop', 'data-turn': turn.id, title: 'Stop (Escape)' }, icon('debug-stop'), ' Stop') : null,
  );
  const el = h('section', { class: `turn ${turn.status}`, 'data-turn-id': turn.id, 'aria-label': `Question: ${turn.question.slice(0, 80)}` }, head);
  if (turn.failure) {
    el.append(h('div', { class: 'notice error', role: 'alert' }, icon('error'), ' ', turn.failure, ' ', h('button', { 'data-action': 'retry', 'data-turn': turn.id }, icon('refresh'), ' Retry')));
  }
  if (turn.compare) {
    const left = turn.answers.find((a) => a.variant === 'notReranked');
    const right = turn.answers.find((a) => a.variant === 'reranked');
    if (left || right) {
      el.append(h('div', { class: 'columns answers' }, left ? renderAnswer(turn, left, 'Without reranking') : h('div'), right ? renderAnswer(turn, right, 'With reranking') : h('div')));
      const cols = renderRankingColumns(turn);
      if (cols) el.append(h('details', { class: 'ranking-details', open: true }, h('summary', {}, 'Rankings side by side'), cols));
    }
  } else {
    for (const a of turn.answers) el.append(renderAnswer(turn, a));
  }
  return el;
}

function renderLog(): void {
  log.replaceChildren(...(state.history.length ? state.history.map(renderTurn) : [renderEmpty()]));
}

function replaceTurn(turn: Turn): void {
  const existing = log.querySelector(`[data-turn-id="${CSS.escape(turn.id)}"]`);
  const i = state.history.findIndex((t) => t.id === turn.id);
  if (i >= 0) state.history[i] = turn;
  else state.history.push(turn);
  if (existing) existing.replaceWith(renderTurn(turn));
  else {
    if (state.history.length === 1) log.replaceChildren();
    log.append(renderTurn(turn));
  }
  scrollToEnd();
  persist();
}

let pendingFrame = 0;
const dirty = new Set<string>();
function appendToken(id: string, variant: Answer['variant'], text: string): void {
  const turn = state.history.find((t) => t.id === id);
  const answer = turn?.answers.find((a) => a.variant === variant);
  if (!turn || !answer) return;
  answer.answer += text;
  dirty.add(`${id}|${variant}`);
  // Re-render at most once per frame while tokens stream in.
  if (!pendingFrame) {
    pendingFrame = requestAnimationFrame(() => {
      pendingFrame = 0;
      for (const key of dirty) {
        const [tid, v] = key.split('|');
        const t = state.history.find((x) => x.id === tid);
        const a = t?.answers.find((x) => x.variant === v);
        const body = log.querySelector(`[data-turn="${CSS.escape(tid!)}"][data-answer="${v}"]`);
        if (a && body) body.replaceChildren(renderMarkdown(a.answer, a.sources.length));
      }
      dirty.clear();
      scrollToEnd();
    });
  }
}

function scrollToEnd(): void {
  log.lastElementChild?.scrollIntoView({ block: 'end' });
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    const running = [...state.history].reverse().find((t) => t.status === 'running');
    if (running) send({ type: 'stop', id: running.id });
  }
});

// ------------------------------------------------------------ host messages

window.addEventListener('message', (event: MessageEvent) => {
  // Fitted to the protocol's bounds, then validated; in a history, only a bad turn is dropped.
  const parsed = parseToWebviewLenient(event.data);
  if (!parsed.ok) {
    console.warn(`Sift: ignored a malformed message: ${parsed.error}`);
    return;
  }
  for (const d of parsed.dropped) console.warn(`Sift: ${d}`);
  const msg: ToWebview = parsed.message;
  switch (msg.type) {
    case 'init':
      state.history = msg.history;
      state.rerank = msg.rerank;
      state.status = msg.status;
      state.llm = msg.llm;
      rerankBox.checked = msg.rerank;
      if (msg.conversations) conversations.update(msg.conversations, msg.conversationId ?? '');
      renderStatus();
      renderLog();
      scrollToEnd();
      persist();
      break;
    case 'conversations':
      conversations.update(msg.items, msg.current);
      break;
    case 'completions':
      mentions.receive(msg);
      break;
    case 'pin':
      pins.add(msg.pin);
      break;
    case 'status':
      state.status = msg.status;
      renderStatus();
      break;
    case 'llm':
      state.llm = msg.llm;
      renderStatus();
      if (!state.history.length) renderLog();
      break;
    case 'setRerank':
      state.rerank = msg.enabled;
      rerankBox.checked = msg.enabled;
      persist();
      break;
    case 'turn':
      replaceTurn(msg.turn);
      break;
    case 'token':
      appendToken(msg.id, msg.variant, msg.text);
      break;
    case 'history':
      state.history = msg.history;
      renderLog();
      persist();
      break;
    case 'prefill':
      input.value = msg.question;
      input.focus();
      if (msg.submit) submit(Boolean(msg.compare));
      else if (msg.compare) compareButton.focus();
      break;
  }
});

rerankBox.checked = state.rerank;
renderLog();
send({ type: 'ready' });
