/**
 * What the status bar item says for an index status: its text (with codicons), a tooltip with the
 * details per folder, and a label for screen readers (no icons, words for symbols). No vscode
 * import (tested in test/unit/status-text.test.ts).
 */
import { type DenseStatus, combineDense, describeDense, formatDuration } from '../core/indexing/denseProgress';
import { type KeywordCoverage, describeKeyword, keywordPercent } from '../core/indexing/keywordCoverage';
import type { IndexStatus } from '../protocol/messages';
import { formatCount } from '../core/util/format';

export interface StatusView {
  text: string;
  tooltip: string;
  /** For screen readers: the same facts as the text, as a sentence. */
  ariaLabel: string;
  error: boolean;
}

type Folder = IndexStatus['folders'][number];

const n = formatCount;

export function statusView(status: IndexStatus): StatusView {
  const folders = status.folders;
  const chunks = folders.reduce((s, f) => s + (f.chunks ?? 0), 0);
  const done = folders.reduce((s, f) => s + (f.filesDone ?? 0), 0);
  const total = folders.reduce((s, f) => s + (f.filesTotal ?? 0), 0);
  const denseParts = folders.flatMap((f) => (f.dense ? [f.dense] : []));
  const dense = denseParts.length ? combineDense(denseParts) : undefined;
  const details = folders.map(folderLine).filter(Boolean).join('\n');
  const withDetails = (head: string) => [head, details, 'Click for logs.'].filter(Boolean).join('\n');
  switch (status.state) {
    case 'indexing': {
      // The keyword pass of some folder is still running: files are the progress that matters.
      const lexicalPass = folders.some((f) => f.state === 'indexing' && !f.dense?.running);
      if (!lexicalPass && dense?.running) {
        return {
          text: `$(sync~spin) Sift: ${dense.percent}% embedded${dense.rate !== undefined ? ` · ${rateText(dense.rate)}` : ''}${dense.etaSeconds !== undefined ? ` · ${formatDuration(dense.etaSeconds)} left` : ''}`,
          tooltip: withDetails(`Sift: every file is searchable by keywords; embedding continues in the background. ${describeDense(dense)}`),
          ariaLabel: `Sift: dense search covers ${dense.percent} percent of chunks${dense.rate !== undefined ? `, embedding ${dense.rate} chunks per second` : ''}${dense.etaSeconds !== undefined ? `, about ${spokenDuration(dense.etaSeconds)} left` : ''}`,
          error: false,
        };
      }
      if (total === 0) {
        // Before the plan (files being listed and compared with the index), or a plan with nothing to read: no "0/0".
        const what = chunks > 0 ? 'checking for changes' : 'finding files';
        return {
          text: `$(sync~spin) Sift: ${what}…`,
          tooltip: withDetails(chunks > 0 ? `Sift is comparing the workspace with its index (${n(chunks)} chunks); the index answers meanwhile.` : 'Sift is listing the files to index.'),
          ariaLabel: `Sift: ${what}`,
          error: false,
        };
      }
      const pct = Math.floor((100 * done) / total);
      // Questions are answered from what the keyword pass has committed: say how much that is.
      const keyword = keywordOf(folders);
      return {
        text: `$(sync~spin) Sift: indexing ${done}/${total} (${pct}%)${keyword ? ` · ${keyword.percent}% searchable` : ''}`,
        tooltip: withDetails(`Sift is indexing the workspace: ${n(done)} of ${n(total)} files read.${keyword ? ` Questions are answered from what is indexed so far: ${describeKeyword(keyword)}.` : ''}`),
        ariaLabel: `Sift: indexing, ${done} of ${total} files, ${pct} percent${keyword ? `; ${keyword.percent} percent of files searchable` : ''}`,
        error: false,
      };
    }
    case 'ready': {
      const how = status.retrieval === 'lexical-only' ? 'keyword search only: an embedding model is missing' : 'semantic + keyword search';
      return {
        text: `$(check) Sift: ${n(chunks)} chunks`,
        tooltip: withDetails(`Sift index ready (${how}).`),
        ariaLabel: `Sift: index ready, ${chunks} chunks, ${how}`,
        error: false,
      };
    }
    case 'paused': {
      const left = dense && dense.percent < 100 ? ` ${describeDense({ ...dense, running: false })}` : '';
      return { text: '$(debug-pause) Sift: paused', tooltip: withDetails(`Sift indexing is paused (Sift: Resume Indexing).${left}`), ariaLabel: 'Sift: indexing paused', error: false };
    }
    case 'error':
      return { text: '$(error) Sift: error', tooltip: `Sift: ${status.message ?? 'indexing failed'}. Click for logs.`, ariaLabel: `Sift: error, ${status.message ?? 'indexing failed'}`, error: true };
    case 'untrusted':
      return { text: '$(shield) Sift: untrusted', tooltip: 'This workspace is not trusted, so Sift indexes nothing.', ariaLabel: 'Sift: workspace not trusted, nothing indexed', error: false };
    default:
      return { text: '$(search) Sift', tooltip: status.message ?? 'Sift: not indexed yet.', ariaLabel: `Sift: ${status.message ?? 'not indexed yet'}`, error: false };
  }
}

/** The keyword coverage of the folders whose keyword pass runs, summed (undefined when none runs). */
function keywordOf(folders: readonly Folder[]): (KeywordCoverage & { percent: number }) | undefined {
  if (!folders.some((f) => f.keyword)) return undefined;
  const c = folders.reduce((s, f) => (f.keyword ? { searchable: s.searchable + f.keyword.searchable, total: s.total + f.keyword.total } : s), { searchable: 0, total: 0 });
  return { ...c, percent: keywordPercent(c) };
}

/** One folder's provider, model and dense coverage (rate and ETA while its pass runs). */
function folderLine(f: Folder): string {
  const parts: string[] = [];
  if (f.embedder) parts.push(`embedding: ${f.embedder.provider} ${f.embedder.model}`);
  if (f.keyword) parts.push(describeKeyword(f.keyword));
  if (f.dense) parts.push(describeDense(f.dense as DenseStatus).replace(/\.$/, ''));
  return parts.length ? `${f.name}: ${parts.join('; ')}` : '';
}

function rateText(rate: number): string {
  return `${rate >= 10 ? Math.round(rate) : rate} chunks/s`;
}

function spokenDuration(seconds: number): string {
  return formatDuration(seconds).replace(/ h /, ' hours ').replace(/ min$/, ' minutes').replace(/ s$/, ' seconds');
}
