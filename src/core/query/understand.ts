import { codeTokens } from '../lexical/tokenize';

/**
 * Question understanding (issue 19), shared by every front end: what kind of question it is and
 * what it names — identifiers, file paths and line numbers from stack traces, error messages,
 * inline and fenced code. Pure and bounded (regexes over at most MAX_QUESTION_CHARS characters,
 * no backtracking-prone patterns): well under 5 ms for the longest question Sift accepts.
 *
 * Stage: after `lexical` (it uses its tokenizer), before `models`.
 */
/**
 * `explanation` is a question asked as one (how/what/why …, or a question mark); `change` is a
 * statement describing behaviour to change or add (a commit message, a feature request, a terse
 * bug report without bug words): its answer is the implementation to change, like a bug report's.
 */
export type QuestionKind = 'bug' | 'implementation' | 'tests' | 'docs' | 'explanation' | 'change';

export interface Frame {
  /** The file as the trace names it (forward slashes). */
  path: string;
  line: number;
  /** The function or method the frame is in, when the format says. */
  symbol?: string;
}

export interface Understanding {
  kind: QuestionKind;
  /** Identifiers the question names (as written, first occurrence order, distinct). */
  identifiers: string[];
  /** Traceback frames, innermost last as the trace prints them. */
  frames: Frame[];
  /** File paths mentioned anywhere (frames included). */
  paths: string[];
  /** Error lines ("KeyError: 'x'", "panic: …", "error[E0308]: …"). */
  errors: string[];
  /** Code the question quotes (inline `…` and fenced blocks). */
  code: string[];
  /** Asked as a question (a question word or auxiliary opening a sentence, or a question mark), not stated as a report or a change. */
  asked: boolean;
}

export const MAX_QUESTION_CHARS = 8000;
const MAX_ITEMS = 64;

const INLINE = /`([^`\n]{1,200})`/g;
const PY_FRAME = /File "([^"\n]{1,400})", line (\d{1,9})(?:, in ([\w<>.]{1,200}))?/g;
const JS_FRAME = /\bat (?:(?:async |new )?([\w$.<>[\]]{1,200}) \()?((?:[A-Za-z]:)?[^\s():]{1,400}\.[A-Za-z]{1,6}):(\d{1,9}):\d{1,9}\)?/g;
const JAVA_FRAME = /\bat ([\w$.<>]{1,300})\(([\w$]{1,200}\.(?:java|kt|scala|groovy)):(\d{1,9})\)/g;
const GO_FRAME = /^[ \t]*((?:[A-Za-z]:)?[^\s:]{1,400}\.go):(\d{1,9})(?: \+0x[0-9a-f]+)?$/gm;
const RUST_FRAME = /(?:\bat |panicked at '?)((?:[A-Za-z]:)?[^\s:']{1,400}\.rs):(\d{1,9})(?::\d{1,9})?/g;
/** .NET: `at Shop.Orders.Uploader.Retry(Int32 n) in C:\src\Shop\Orders\Uploader.cs:line 57`. */
const DOTNET_FRAME = /\bat ([\w.<>`$+]{1,300})\([^)\n]{0,160}\) in ((?:[A-Za-z]:)?[^\n:]{1,400}\.(?:cs|fs|vb)):line (\d{1,9})/g;
/** PHP: `#0 /var/www/src/Cart.php(12): App\Cart->total()`, and `… in /var/www/src/Cart.php:12` / `… on line 12`. */
const PHP_FRAME = /^[ \t]*#\d{1,4} ((?:[A-Za-z]:)?[^\s(]{1,400}\.php)\((\d{1,9})\)(?:: ([\w\\]{1,200}(?:->|::)\w{1,100}))?/gm;
const PHP_AT = /\bin ((?:[A-Za-z]:)?[^\s]{1,400}\.php)(?::| on line )(\d{1,9})/g;
/** Ruby: `/app/models/cart.rb:10:in 'total'` (also `` `block in total' ``). */
// Starts at a line's start or after white space only: unanchored, a long run without spaces was scanned from each of its characters.
const RUBY_FRAME = /(?:^|[\s(])((?:[A-Za-z]:)?[^\s:'"`(]{1,400}\.rb):(\d{1,9}):in [`'"]([^'"`\n]{1,200})['"`]/gm;
const PATH = /(?:^|[\s"'`(])((?:[\w.-]{1,100}\/){0,20}[\w.-]{1,100}\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|go|rs|java|kt|scala|rb|php|c|h|cc|cpp|hpp|cs|swift|md|rst|json|ya?ml|toml|cfg|ini))(?=$|[\s"'`),:;?!.])/gm;
const ERROR_LINE = /^[ \t]*((?:[A-Za-z_][\w]*\.){0,6}[A-Z]\w{0,80}(?:Error|Exception|Warning|Exit|Interrupt|Fault)|panic|error(?:\[E\d{4}\])?|fatal error|Traceback)\b(?::[ \t]*([^\n]{0,300}))?/gm;
const IDENTIFIER = /[A-Za-z_$][\w$]{0,100}(?:(?:\.|::|#)[A-Za-z_$][\w$]{0,100}){0,8}/g;

const BUG_WORDS = /\b(?:bug|error|errors|exception|traceback|crash(?:es|ed)?|fail(?:s|ed|ing|ure)?|broken|regression|raises?|thrown?|panic(?:s|ked)?|wrong|incorrect|unexpected(?:ly)?|segfault|hangs?)\b/i;
const TEST_WORDS = /\b(?:tests?|tested|testing|unit[- ]tests?|specs?|fixtures?|covered by)\b/i;
const DOC_WORDS = /\b(?:docs?|documented|documentation|readme|changelog|manual)\b/i;
const WHERE_WORDS = /\b(?:where(?:'s| is| are| do| does)?|which (?:file|module|class|function)|find the (?:code|file|function)|defined|implemented|located|lives?)\b/i;

/** A word that is an identifier rather than prose: has `_`, inner capitals, a dot/`::` path, or digits after letters. */
function isIdentifier(word: string): boolean {
  if (word.length < 3) return false;
  if (/[.:#]/.test(word)) return /[A-Za-z_$][\w$]*(?:\.|::|#)[A-Za-z_$]/.test(word) && !/^(?:e\.g|i\.e|etc)\b/i.test(word);
  return /_/.test(word.slice(1)) || /[a-z][A-Z]/.test(word) || /^[A-Z][a-z]+[A-Z]/.test(word) || /[A-Za-z][0-9]/.test(word);
}

function push<T>(list: T[], seen: Set<string>, key: string, item: T): void {
  if (list.length >= MAX_ITEMS || seen.has(key)) return;
  seen.add(key);
  list.push(item);
}

const slashes = (p: string) => p.replace(/\\/g, '/');

/**
 * A Java / Kotlin frame names its file only (`Pool.java`); its class's package gives the folders:
 * `com.acme.io.Pool.borrow` → `com/acme/io/Pool.java` (an inner class `Outer$Inner` lives in Outer's file).
 */
function javaPath(symbol: string, file: string): string {
  const parts = symbol.split('.');
  parts.pop(); // the method
  parts.pop(); // the class
  return parts.length && parts.every((p) => /^[a-z_][\w]*$/.test(p)) ? `${parts.join('/')}/${file}` : file;
}

export function understandQuestion(question: string): Understanding {
  const text = question.length > MAX_QUESTION_CHARS ? question.slice(0, MAX_QUESTION_CHARS) : question;
  const code: string[] = [];
  const codeSeen = new Set<string>();
  // Fenced blocks by a linear split (a lazy regex is quadratic on unclosed fences).
  const pieces = text.split('```');
  let prose = '';
  pieces.forEach((piece, i) => {
    if (i % 2 === 0 || i === pieces.length - 1) prose += `${piece} `;
    else push(code, codeSeen, piece, piece.slice(piece.indexOf('\n') + 1).trim());
  });
  for (const m of prose.matchAll(INLINE)) push(code, codeSeen, m[1]!, m[1]!.trim());

  const frames: Frame[] = [];
  const frameSeen = new Set<string>();
  const frame = (path: string, line: string, symbol?: string) => {
    const f: Frame = { path: slashes(path), line: Number(line), ...(symbol ? { symbol } : {}) };
    push(frames, frameSeen, `${f.path}:${f.line}`, f);
  };
  for (const m of text.matchAll(PY_FRAME)) frame(m[1]!, m[2]!, m[3] && m[3] !== '<module>' ? m[3] : undefined);
  for (const m of text.matchAll(JAVA_FRAME)) frame(javaPath(m[1]!, m[2]!), m[3]!, m[1]!);
  for (const m of text.matchAll(JS_FRAME)) if (!/\.(?:java|kt|scala|groovy)$/.test(m[2]!)) frame(m[2]!, m[3]!, m[1]?.trim() || undefined);
  for (const m of text.matchAll(GO_FRAME)) frame(m[1]!, m[2]!);
  for (const m of text.matchAll(RUST_FRAME)) frame(m[1]!, m[2]!);
  for (const m of text.matchAll(DOTNET_FRAME)) frame(m[2]!, m[3]!, m[1]!);
  for (const m of text.matchAll(PHP_FRAME)) frame(m[1]!, m[2]!, m[3]?.replace(/\\|->|::/g, '.'));
  for (const m of text.matchAll(PHP_AT)) frame(m[1]!, m[2]!);
  for (const m of text.matchAll(RUBY_FRAME)) frame(m[1]!, m[2]!, m[3]!.split(' ').pop());

  const paths: string[] = [];
  const pathSeen = new Set<string>();
  for (const f of frames) push(paths, pathSeen, f.path, f.path);
  for (const m of text.matchAll(PATH)) {
    const p = slashes(m[1]!);
    push(paths, pathSeen, p, p);
  }

  const errors: string[] = [];
  const errorSeen = new Set<string>();
  for (const m of text.matchAll(ERROR_LINE)) {
    if (m[1] === 'Traceback') continue;
    const line = m[2] ? `${m[1]}: ${m[2].trim()}` : m[1]!;
    if (m[1] === 'error' && !m[2]) continue;
    push(errors, errorSeen, line, line);
  }

  const identifiers: string[] = [];
  const idSeen = new Set<string>();
  for (const f of frames) if (f.symbol) for (const part of f.symbol.split(/[.:#]+/).slice(-2)) if (isIdentifier(part) || /^[a-z_]\w{3,}$/.test(part)) push(identifiers, idSeen, part, part);
  // Inline code is an identifier when it looks like one, whatever its shape (`render`, `Flask`).
  for (const c of code) if (!c.includes('\n') && /^[A-Za-z_$][\w$.:#]*(?:\(\))?$/.test(c)) push(identifiers, idSeen, c.replace(/\(\)$/, ''), c.replace(/\(\)$/, ''));
  for (const m of prose.replace(PY_FRAME, ' ').matchAll(IDENTIFIER)) {
    const word = m[0].replace(/[.:#]+$/, '');
    if (pathSeen.has(word) || /\.(?:py|js|ts|go|rs|java|md)$/.test(word)) continue;
    if (isIdentifier(word)) push(identifiers, idSeen, word, word);
  }

  const lines = prose.split('\n').map((l) => l.trim()).filter(Boolean);
  const lead = leadOf(lines);
  const report = isReport(prose, lines.length, lead);
  return { kind: report ? reportKind(text, lead, frames, errors) : kindOf(text, frames, errors), identifiers, frames, paths, errors, code, asked: !report && INTERROGATIVE.test(prose) };
}

/** An issue's title or a commit's subject: the first of several non-empty lines, else the one line's first sentence. */
function leadOf(lines: readonly string[]): string {
  const first = lines[0] ?? '';
  if (lines.length > 1) return first.slice(0, 300);
  const end = first.search(/[.?!](?:\s|$)/);
  return (end >= 0 ? first.slice(0, end + 1) : first).slice(0, 300);
}

const REPORT_WORDS = 60;
/** A lead that asks: it has a question mark, or opens with a question word or a request to explain. */
const LEAD_ASKS = /\?|^\W*(?:how|what|what's|why|where|which|who|whose|explain|describe|tell me|walk me through|in what way)\b/i;

/**
 * A report rather than a question: a title and a body (an issue, a commit message, a pasted bug
 * report) or a long text, whose lead states something instead of asking. A report names tests,
 * docs, questions and "where it is defined" in passing — "the test ids are wrong", "the docs say
 * …", "Is this expected?" — and what it is after is still the code to change.
 */
function isReport(prose: string, lines: number, lead: string): boolean {
  if (LEAD_ASKS.test(lead)) return false;
  if (lines > 1) return true;
  let words = 0;
  for (const _ of prose.matchAll(/\S+/g)) if (++words > REPORT_WORDS) return true;
  return false;
}

/**
 * Tests or docs only when the report's lead is labelled so up front — "tests: …", "Docs: …",
 * "docs(api): …", "[docs] …" — else the code it reports on. A lead that merely opens with the word
 * is a report about the code: against a documentation generator "Documentation not rendered for
 * optional methods" or "README.md in the theme folder overrides index.md" is a bug in the generator.
 */
const label = (words: RegExp) => new RegExp(String.raw`^\W{0,3}(?:\[\s*)?${words.source}(?:\([^)\n]{0,40}\))?\s*[:\]]`, 'i');
const LEAD_TESTS = label(TEST_WORDS);
const LEAD_DOCS = label(DOC_WORDS);

function reportKind(text: string, lead: string, frames: Frame[], errors: string[]): QuestionKind {
  if (LEAD_TESTS.test(lead)) return 'tests';
  if (LEAD_DOCS.test(lead)) return 'docs';
  return frames.length || errors.length || BUG_WORDS.test(text) ? 'bug' : 'change';
}

/**
 * The question is *about* tests / docs when a question word and a test / doc word share a clause
 * ("how is X tested", "where is Y documented"), or it starts with one ("docs: …", "Tests for …"). A
 * long bug report that mentions its tests or its changelog in passing is still about the code.
 */
const CLAUSE = String.raw`[^.?!\n]{0,80}`;
const ASKS_TESTS = new RegExp(String.raw`\b(?:how|where|which|what)\b${CLAUSE}${TEST_WORDS.source}|^\W*${TEST_WORDS.source}`, 'i');
const ASKS_DOCS = new RegExp(String.raw`\b(?:how|where|which|what|is)\b${CLAUSE}${DOC_WORDS.source}|^\W*${DOC_WORDS.source}`, 'i');

function kindOf(text: string, frames: Frame[], errors: string[]): QuestionKind {
  const asksTests = ASKS_TESTS.test(text);
  if (frames.length || errors.length) {
    // A failing test's trace is still a bug report, unless the question is about the tests.
    if (asksTests && /\b(?:how|where|which)\b[^.?\n]{0,60}\btest/i.test(text)) return 'tests';
    return 'bug';
  }
  if (asksTests) return 'tests';
  if (ASKS_DOCS.test(text)) return 'docs';
  if (BUG_WORDS.test(text)) return 'bug';
  if (WHERE_WORDS.test(text)) return 'implementation';
  return INTERROGATIVE.test(text) ? 'explanation' : 'change';
}

/** Asked as a question: a question word or auxiliary opening a sentence, an imperative to explain, or a question mark. */
const INTERROGATIVE = /(?:^|[.!?\n]\s*)(?:how|what|what's|why|when|which|who|whose|does|do|did|is|are|was|were|can|could|should|would|will|explain|describe|tell me|walk me through|in what way)\b|\?/i;

/** Repeats per identifier term in a long question (prose terms once). */
export const IDENTIFIER_WEIGHT = 3;
const LONG_QUESTION_TERMS = 24;

/**
 * BM25 query terms for a question: its own terms, and — in a long question that names identifiers
 * or files — those names' terms first and repeated, so a pasted bug report is searched for the
 * code it names more than for its prose. A short question keeps its terms unchanged.
 */
export function weightedQueryTerms(question: string, u: Understanding = understandQuestion(question)): string[] {
  const prose = codeTokens(question);
  if (prose.length < LONG_QUESTION_TERMS) return prose;
  const strong: string[] = [];
  for (const id of u.identifiers) strong.push(...codeTokens(id.replace(/[.:#]+/g, ' ')));
  for (const f of u.frames) strong.push(...codeTokens(f.path.split('/').slice(-2).join(' ').replace(/\.\w+$/, '')));
  if (!strong.length) return prose;
  const distinct = [...new Set(strong)];
  const out: string[] = [];
  for (let r = 0; r < IDENTIFIER_WEIGHT; r++) out.push(...distinct);
  return [...out, ...prose];
}

/**
 * Words of issue-template headings and form labels ("## Expected Behavior", "**Steps to
 * reproduce**", "### System information"): a line made only of these (no digits) is the template's,
 * not the reporter's.
 */
const TEMPLATE_WORDS = new Set(
  (
    'a an and any are as be bug browser case checklist checks code comments considered context current describe description details did do ' +
    'does environment example examples existing expect expected actual actually feature fix for happen happened happens have here how i if ' +
    'in info information installed instead is issue issues it link links log logs minimal motivation no node none note notes of on operating ' +
    'optional or os other output package platform please possible prerequisites problem proposal provide python question related repro ' +
    'reproduce reproduction request result results sample screenshot screenshots search searched see solution step steps suggested summary ' +
    'system terms that the this to tried use version versions what when which workaround yes you your behavior behaviour additional alternatives ' +
    'acknowledgements configuration dependencies'
  ).split(' '),
);
const CHECKBOX_LINE = /^\s*(?:[-*+]|\d{1,3}[.)])\s*\[[ xX✓]\]/;
const MD_IMAGE = /!\[[^\]\n]{0,300}\]\([^)\s]{0,2000}\)/g;
const URL = /\bhttps?:\/\/[^\s)<>\]"'`]{1,2000}/g;
const GITHUB_FILE = /^https?:\/\/(?:www\.)?github\.com\/[^/\s]+\/[^/\s]+\/(?:blob|tree)\/[^/\s]+\/([^#?\s]+)/;

function templateLine(line: string): boolean {
  // "Python: 3.12", "Node.js version: 24.1": the reporter's facts under the template's labels.
  if (/\d/.test(line)) return false;
  let words = 0;
  for (const m of line.matchAll(/[A-Za-z]+/g)) {
    if (!TEMPLATE_WORDS.has(m[0].toLowerCase())) return false;
    if (++words > 8) return false;
  }
  return words > 0;
}

/**
 * The text searched for a question (BM25 terms and the question's embedding; the LLM still reads
 * the question as asked). A pasted issue carries its tracker's template — headings such as
 * "## Expected Behavior", a checklist of "- [x] I searched the existing issues …", HTML comments
 * with instructions — and links to screenshots: words that match the repository's own issue
 * templates, contributing guide and docs, not the code to change. For a text of several lines this
 * drops HTML comments, checklist lines, image links, template-heading lines (all of whose words are
 * template words; never the first line) and URLs (a GitHub link to a file keeps the file's path). A
 * one-line question is searched as it is. Linear in the text's length.
 */
export function searchText(question: string): string {
  if (!question.includes('\n')) return question;
  let text = question;
  if (text.includes('<!--')) {
    let out = '';
    let at = 0;
    for (;;) {
      const start = text.indexOf('<!--', at);
      if (start < 0) {
        out += text.slice(at);
        break;
      }
      out += text.slice(at, start);
      const end = text.indexOf('-->', start + 4);
      if (end < 0) break;
      at = end + 3;
    }
    text = out;
  }
  text = text.replace(MD_IMAGE, ' ').replace(URL, (url) => GITHUB_FILE.exec(url)?.[1] ?? ' ');
  const lines = text.split('\n');
  return lines.filter((line, i) => i === 0 || !(CHECKBOX_LINE.test(line) || templateLine(line))).join('\n');
}
