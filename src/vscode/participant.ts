/**
 * The `@sift` chat participant's logic: one question answered through AskService (the same
 * retrieval, ranking, redaction and prompt as the panel) with the model the user picked in the
 * chat view, streamed as markdown, every source given as a reference and an anchor with its line
 * range. No vscode import: chatApi.ts adapts the stream, the token and the model.
 */
import type { AnswerResult, AskEvent, RankedResult, SourceResult, Variant } from '../core/answer/ask';
import type { ChatModel } from '../core/llm/chatModel';
import { errorMessage } from '../core/util/errors';
import type { AskOptions } from './askService';

export const PARTICIPANT_ID = 'sift.participant';
export type ParticipantCommand = 'compare' | 'norerank';

/** A file range, lines 1-based inclusive (the adapter makes a `vscode.Location`). */
export interface SourceLocation {
  file: string;
  startLine: number;
  endLine: number;
}

/** The part of `vscode.ChatResponseStream` the participant uses. */
export interface ParticipantStream {
  markdown(text: string): void;
  progress(text: string): void;
  reference(loc: SourceLocation): void;
  anchor(loc: SourceLocation, title: string): void;
}

export interface ParticipantAsker {
  ask(question: string, opts: AskOptions): Promise<{ single?: AnswerResult; compare?: { reranked: AnswerResult; notReranked: AnswerResult } }>;
  /** The file of a source (its folder's root joined with its path). */
  fileOf(folder: string | undefined, relPath: string): string | undefined;
}

export interface ParticipantRequest {
  prompt: string;
  command?: string;
  /** The model picked in the chat view (`request.model`), as a bounded ChatModel. */
  model: ChatModel;
}

/** What the chat view keeps with the answer (`ChatResult.metadata`): the follow-ups read it. */
export interface ParticipantMetadata {
  question: string;
  command?: ParticipantCommand;
  sources: number;
  outcome: 'answered' | 'error' | 'cancelled' | 'empty';
}

const VARIANT_TITLE: Record<Variant, string> = { reranked: 'With reranking (cross-encoder)', notReranked: 'Without reranking (fused retrieval order)' };
const RANKING_SHOWN = 5;

export function commandOf(command: string | undefined): ParticipantCommand | undefined {
  return command === 'compare' || command === 'norerank' ? command : undefined;
}

/** Answers one chat request. Never throws: every problem is written to the stream as markdown. */
export async function answerInChat(asker: ParticipantAsker, req: ParticipantRequest, stream: ParticipantStream, signal: AbortSignal): Promise<{ metadata: ParticipantMetadata }> {
  const question = req.prompt.trim();
  const command = commandOf(req.command);
  const meta = (outcome: ParticipantMetadata['outcome'], sources = 0) => ({ metadata: { question, ...(command ? { command } : {}), sources, outcome } });
  if (!question) {
    stream.markdown('Ask a question about the code in this workspace, e.g. `@sift where are failed uploads retried?`. `/compare` answers with and without reranking; `/norerank` skips the cross-encoder.');
    return meta('empty');
  }
  const compare = command === 'compare';
  const writer = new AnswerWriter(asker, stream, compare, req.model.label);
  stream.progress(compare ? 'Searching, then ranking with and without the cross-encoder…' : 'Searching the codebase…');
  try {
    const result = await asker.ask(question, { rerank: command !== 'norerank', compare, signal, model: req.model, onEvent: (e) => writer.onEvent(e) });
    const answers = result.compare ? [result.compare.notReranked, result.compare.reranked] : result.single ? [result.single] : [];
    writer.finish(answers);
    if (signal.aborted) return meta('cancelled');
    return meta(answers.some((a) => a.answerKind === 'error') ? 'error' : 'answered', answers.at(-1)?.sources.length ?? 0);
  } catch (err) {
    if (signal.aborted) return meta('cancelled');
    stream.markdown(`\n\n**Sift could not answer:** ${errorMessage(err)}`);
    return meta('error');
  }
}

/** Streams one or two answers: heading and ranking (compare), text, then the numbered sources. */
class AnswerWriter {
  private pending: { variant: Variant; sources: SourceResult[] } | undefined;
  private readonly rankings = new Map<Variant, RankedResult[]>();
  private readonly shown = new Set<string>();

  constructor(
    private readonly asker: ParticipantAsker,
    private readonly stream: ParticipantStream,
    private readonly compare: boolean,
    private readonly modelLabel: string,
  ) {}

  onEvent(e: AskEvent): void {
    if (e.type === 'retrieved') this.stream.progress(`Ranking ${e.candidates} candidates (${e.mode === 'hybrid' ? 'semantic + keyword' : 'keyword only'})…`);
    else if (e.type === 'notice' && !this.shown.has(e.message)) {
      this.shown.add(e.message);
      this.stream.markdown(`> ${e.message}\n\n`);
    }
    else if (e.type === 'ranked') this.rankings.set(e.variant, e.ranking);
    else if (e.type === 'sources') {
      this.flush();
      this.pending = { variant: e.variant, sources: e.sources };
      if (this.compare) this.stream.markdown(`### ${VARIANT_TITLE[e.variant]}\n\n${this.rankingText(e.variant)}\n\n`);
      this.stream.progress(`Writing the answer with ${this.modelLabel}…`);
    } else if (e.type === 'token') this.stream.markdown(e.text);
  }

  /** After the last answer: its sources, then errors (the text so far stays) and notices. */
  finish(answers: AnswerResult[]): void {
    this.flush();
    for (const a of answers) {
      const which = this.compare ? ` (${VARIANT_TITLE[a.reranked ? 'reranked' : 'notReranked']})` : '';
      if (a.answerKind === 'error' && a.error && a.error.kind !== 'aborted') this.stream.markdown(`\n\n**Sift${which}:** ${a.error.message}`);
    }
    const notices = [...new Set(answers.flatMap((a) => a.notices))].filter((n) => !this.shown.has(n));
    if (notices.length) this.stream.markdown(`\n\n${notices.map((n) => `_${n}_`).join('\n\n')}`);
  }

  private rankingText(variant: Variant): string {
    const ranking = this.rankings.get(variant) ?? [];
    if (!ranking.length) return '_No candidates were found._';
    return ranking
      .slice(0, RANKING_SHOWN)
      .map((r, i) => `${i + 1}. \`${r.folder ? `${r.folder}/` : ''}${r.path}:${r.startLine}-${r.endLine}\` (rank ${r.rankBefore} → ${r.rankAfter}${r.scores.rerank !== undefined ? `, rerank ${r.scores.rerank}` : ''}, fused ${r.scores.fused})`)
      .join('\n');
  }

  /** The numbered sources of the answer just written: a list of [n] with an anchor to its range, and a reference each. */
  private flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    if (!p.sources.length) {
      this.stream.markdown('\n\n_No sources were found._\n\n');
      return;
    }
    this.stream.markdown('\n\n**Sources**\n\n');
    for (const s of p.sources) {
      const file = this.asker.fileOf(s.folder, s.path);
      const title = `${s.folder ? `${s.folder}/` : ''}${s.path}:${s.startLine}-${s.endLine}`;
      // A list item with escaped brackets: VS Code renders an inline anchor as a markdown link, so a
      // bare "[n] " before it nests links and leaks "](https://…)" text into the chat view.
      this.stream.markdown(`${s.n === 1 ? '' : '\n'}- \\[${s.n}\\] `);
      if (!file) {
        this.stream.markdown(`\`${title}\``);
        continue;
      }
      const loc = { file, startLine: s.startLine, endLine: s.endLine };
      this.stream.anchor(loc, title);
      this.stream.reference(loc);
    }
    this.stream.markdown('\n\n');
  }
}

/** Follow-ups offered under an answer. */
export function followupsFor(meta: ParticipantMetadata | undefined): { prompt: string; label: string; command?: ParticipantCommand }[] {
  if (!meta || meta.outcome === 'empty' || meta.outcome === 'cancelled') return [];
  const q = meta.question;
  const out: { prompt: string; label: string; command?: ParticipantCommand }[] = [];
  if (meta.command !== 'compare') out.push({ prompt: q, command: 'compare', label: 'Compare the answer with and without reranking' });
  if (!meta.command) out.push({ prompt: q, command: 'norerank', label: 'Answer again without the cross-encoder' });
  if (meta.command) out.push({ prompt: q, label: 'Answer again with reranking' });
  return out;
}
