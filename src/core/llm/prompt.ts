import type { PackedSource } from './context';
import { redactSecretsInText } from '../discovery/redact';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const SYSTEM = [
  'You are Sift, an assistant that answers questions about a codebase using only the numbered sources provided.',
  'Cite every claim with the number of the source it comes from, in square brackets, like [1] or [2][3].',
  'Only cite numbers of sources that were given. If the sources do not contain the answer, say so plainly and suggest where to look instead of guessing.',
  'Be concise. Refer to code by file path and symbol name. Use fenced code blocks for code.',
].join(' ');

function fence(text: string): string {
  let fenceStr = '```';
  while (text.includes(fenceStr)) fenceStr += '`';
  return fenceStr;
}

/** The numbered sources block: `[n] path:start-end` followed by the code. */
export function formatSources(sources: PackedSource[]): string {
  return sources
    .map((s) => {
      const f = fence(s.text);
      return `[${s.n}] ${s.folder ? `${s.folder}/` : ''}${s.path}:${s.startLine}-${s.endLine}\n${f}${s.language}\n${s.text}\n${f}`;
    })
    .join('\n\n');
}

/**
 * `history`: earlier turns of the conversation (user and assistant messages, already trimmed and
 * redacted by the caller), placed before the new sources and question; the sources' numbers are
 * this turn's only.
 */
export function buildMessages(question: string, sources: PackedSource[], opts: { redact?: boolean; history?: ChatMessage[] } = {}): ChatMessage[] {
  const safe = opts.redact === false ? sources : sources.map((s) => ({ ...s, text: redactSecretsInText(s.text, s.path).text }));
  const context = safe.length ? formatSources(safe) : '(no sources were found for this question)';
  return [
    { role: 'system', content: SYSTEM },
    ...(opts.history ?? []),
    { role: 'user', content: `Sources:\n\n${context}\n\nQuestion: ${question}` },
  ];
}
