import { type DiscoveryOptions, DiscoveryMatcher, type SkippedFile } from '../../core/discovery';
import { DEFAULT_MAX_FILE_BYTES } from '../../core/discovery/defaults';
import { redactForAgent } from '../../core/answer/search';
import { readIndexableFile } from '../../core/indexing/readSource';
import { normalizeSource } from '../../core/chunking';
import { resolveInsideRoot } from '../../core/util/containment';
import { SiftError } from '../../core/util/errors';

/** Lines returned by one call at most; the agent asks for the next range to go on. */
export const MAX_RANGE_LINES = 400;
/** Characters returned by one call at most (long lines). */
export const MAX_RANGE_CHARS = 64_000;

export interface RangeResult {
  folder?: string;
  path: string;
  startLine: number;
  endLine: number;
  totalLines: number;
  /** True when fewer lines than asked for were returned (line or character cap). */
  truncated: boolean;
  text: string;
  /** How many secrets were redacted, by kind (absent when none were). */
  redacted?: Record<string, number>;
}

/**
 * Reads lines [startLine, endLine] (1-based, inclusive) of a file in `root` for an agent. Only
 * files Sift would index are read, with the indexer's own checks: the path must stay inside the
 * folder (no `..`, no absolute path, no symlink — followed or leading out), and discovery's rules
 * must accept it (never a secret file such as `.env` or a key, nor an ignored, binary or too
 * large file); the read itself re-checks (time of check to time of use). Secrets inside the
 * returned lines are redacted like search results. Throws `SiftError('bad-input')` with a reason.
 */
export async function readRange(
  root: string,
  relPath: string,
  startLine: number,
  endLine: number | undefined,
  opts: { discovery: DiscoveryOptions; redact: boolean; folder?: string },
): Promise<RangeResult> {
  const rel = relPath.replace(/^(\.\/)+/, '');
  const inside = await resolveInsideRoot(root, rel, opts.folder);
  if ('error' in inside) throw new SiftError(inside.error, 'bad-input');
  const matcher = await DiscoveryMatcher.create(root, opts.discovery);
  const verdict = await matcher.inspect(rel);
  if (verdict.type === 'skip') throw new SiftError(refusal(rel, verdict.skip), 'bad-input');
  const maxBytes = opts.discovery.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const read = await readIndexableFile(verdict.file.absPath, matcher.realRoot, maxBytes);
  if (!read.ok) throw new SiftError(refusal(rel, { path: rel, reason: read.reason, detail: read.detail }), 'bad-input');
  // Lines as the chunker numbers them (and the editor shows them): CRLF, LF and a lone CR each end one.
  const lines = normalizeSource(read.buf.toString('utf8')).split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  const totalLines = lines.length;
  if (startLine > totalLines) throw new SiftError(`"${rel}" has ${totalLines} line${totalLines === 1 ? '' : 's'}; startLine ${startLine} is past its end.`, 'bad-input');
  const wantedEnd = Math.min(endLine ?? startLine + MAX_RANGE_LINES - 1, totalLines);
  let end = Math.min(wantedEnd, startLine + MAX_RANGE_LINES - 1);
  let chars = 0;
  for (let n = startLine; n <= end; n++) {
    chars += lines[n - 1]!.length + 1;
    if (chars > MAX_RANGE_CHARS && n > startLine) {
      end = n - 1;
      break;
    }
  }
  const slice = lines.slice(startLine - 1, end).join('\n');
  const clean = redactForAgent(slice.length > MAX_RANGE_CHARS ? slice.slice(0, MAX_RANGE_CHARS) : slice, opts.redact, rel);
  return {
    ...(opts.folder ? { folder: opts.folder } : {}),
    path: rel,
    startLine,
    endLine: end,
    totalLines,
    truncated: end < wantedEnd || slice.length > MAX_RANGE_CHARS,
    text: clean.text,
    ...(clean.redacted ? { redacted: clean.redacted } : {}),
  };
}

/** Why a file is not handed out, in words an agent can act on. */
function refusal(rel: string, skip: SkippedFile): string {
  const at = skip.path !== rel ? ` (${skip.path})` : '';
  const detail = skip.detail ? `: ${skip.detail}` : '';
  switch (skip.reason) {
    case 'secret':
      return `Refused to read "${rel}": it may hold credentials${at} (Sift's secret-file rules: .env files, keys, certificates, credential files), so Sift never reads it.`;
    case 'symlink-outside':
      return `Refused to read "${rel}": it is a symlink leading outside the folder${detail}.`;
    case 'binary':
      return `Refused to read "${rel}": it is a binary file${detail}.`;
    case 'too-large':
      return `Refused to read "${rel}": it is too large${detail}.`;
    case 'not-a-file':
    case 'symlink-loop':
      return `Refused to read "${rel}": not a regular file${detail}.`;
    case 'unreadable':
      return /^ENOENT|^ENOTDIR/.test(skip.detail ?? '') ? `"${rel}" does not exist in this folder.` : `"${rel}" cannot be read${detail}.`;
    default:
      return `Refused to read "${rel}": Sift does not index it (${skip.reason}${at}${detail}); read_range only reads files that Sift indexes.`;
  }
}
