import type { Understanding } from '../query/understand';

/**
 * What a chunk's text defines beyond the chunk's own symbol path — the one home for reading
 * declarations out of chunk text: `membersOf` lists a class chunk's methods per language (for `@`
 * completion), `definedIn` asks whether the text declares any of some names (file evidence).
 *
 * `definedIn`: where a chunk's text *defines* a name: a small class is one
 * chunk (`Uploader`) holding its methods, a Go file's chunk holds several funcs, a Python module's
 * top-level chunk its assignments. Declaration shapes of the languages Sift chunks — keyword
 * forms (`def`, `class`, `function`, `func`, `fn`, `struct`, …, Go receivers), bindings (`const x =`,
 * `x = lambda`), and methods (`async name(…) {`, `public Foo name(…) {`) — never a call (`name(x);`,
 * `await name(x)`), a use in an expression, or a mention in a comment's middle.
 */

/** A symbol a question names, in matching form (lowercased); `owner` for a qualified `Owner.name` (its last two parts). */
export interface SymbolName {
  name: string;
  owner?: string;
  /** As written (the keyword index's tokens of it: `CliRunner` → the whole `clirunner` and its parts). */
  spelled: string;
  ownerSpelled?: string;
}

/** The names a question's identifiers and traceback frames give, each once in order: qualified `owner.name` pairs, then bare last parts (≥ 3 characters). */
export function questionSymbols(u: Pick<Understanding, 'identifiers' | 'frames'>): { qualified: SymbolName[]; bare: SymbolName[] } {
  const qualified: SymbolName[] = [];
  const bare: SymbolName[] = [];
  const seen = new Set<string>();
  const add = (parts: string[]) => {
    const spelled = parts[parts.length - 1]!;
    const name = spelled.toLowerCase();
    if (name.length < 3) return;
    if (!seen.has(name)) {
      seen.add(name);
      bare.push({ name, spelled });
    }
    if (parts.length < 2) return;
    const ownerSpelled = parts[parts.length - 2]!;
    const owner = ownerSpelled.toLowerCase();
    if (seen.has(`${owner}.${name}`)) return;
    seen.add(`${owner}.${name}`);
    qualified.push({ name, owner, spelled, ownerSpelled });
  };
  for (const id of u.identifiers) {
    const parts = id.split(/\.|::|#/).filter(Boolean);
    if (parts.length) add(parts);
  }
  for (const f of u.frames) if (f.symbol) add([f.symbol.split(/[.:#]/).pop()!]);
  return { qualified, bare };
}

/** What a chunk defines of some named symbols: `how` 'qualified' (`owner > name` in its symbol path) or 'name', and the definition's path as written. */
export interface Defines {
  how: 'qualified' | 'name';
  defined: string;
}

/**
 * The one rule for "this chunk — so its file — defines X", shared by the file evidence of the
 * question prior (fileEvidence.ts), the learning-to-rank features and the whole-index definition
 * lookup (definitionLookup.ts):
 *
 * - qualified `Owner.name`: `owner > name` are adjacent in the chunk's symbol path (the chunk is
 *   that definition or inside it: `Owner > name > inner`);
 * - a bare name: a symbol of the path is the name (the chunk is inside its definition: `CliRunner
 *   > invoke` is inside class CliRunner), else the chunk's text declares it (`definedIn`: a method
 *   of a small class kept whole in one chunk, one of several Go funcs, a module-level binding) —
 *   unless `text` is false.
 *
 * Compared case-insensitively; a call, an import or a mention never defines.
 */
export function chunkDefines(chunk: { symbols: readonly string[]; text: string }, names: { qualified: readonly SymbolName[]; bare: readonly SymbolName[] }, opts: { text?: boolean } = {}): Defines | undefined {
  const lower = chunk.symbols.map((s) => s.toLowerCase());
  for (const q of names.qualified) {
    for (let i = 1; i < lower.length; i++) if (lower[i] === q.name && lower[i - 1] === q.owner) return { how: 'qualified', defined: chunk.symbols.slice(0, i + 1).join('.') };
  }
  for (const b of names.bare) {
    const i = lower.indexOf(b.name);
    if (i >= 0) return { how: 'name', defined: chunk.symbols.slice(0, i + 1).join('.') };
  }
  if (opts.text === false || !names.bare.length) return undefined;
  const inText = definedIn(
    chunk.text,
    names.bare.map((b) => b.name),
  );
  return inText ? { how: 'name', defined: [...chunk.symbols, inText].join('.') } : undefined;
}

const KEYWORDS = '(?:def|class|function\\*?|func|fn|struct|enum|trait|interface|type|module|record|object|protocol|impl)';
const MODIFIERS = '(?:(?:export|default|public|private|protected|internal|static|async|override|readonly|abstract|final|virtual|get|set|pub(?:\\([^)]*\\))?|unsafe|const|inline|suspend|open)\\s+)*';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first of `names` (compared case-insensitively) that `text` defines, spelled as in the text; or undefined. */
export function definedIn(text: string, names: Iterable<string>): string | undefined {
  for (const name of names) {
    if (!name || name.length < 3 || !/^[\w$]+$/.test(name)) continue;
    const n = escape(name);
    if (!new RegExp(`\\b${n}\\b`, 'i').test(text)) continue;
    const patterns = [
      // def name / class Name / func (r *T) Name / fn name / struct Name …
      new RegExp(`^[ \\t]*${MODIFIERS}${KEYWORDS}\\s+(?:\\([^)\\n]*\\)\\s*)?${n}\\b`, 'im'),
      // const name = / let name: T = / var name = / name = lambda / name := func
      new RegExp(`^[ \\t]*${MODIFIERS}(?:const|let|var|val)\\s+${n}\\s*[:=]`, 'im'),
      new RegExp(`^[ \\t]*${n}\\s*(?::=|=)\\s*(?:lambda\\b|function\\b|func\\b|async\\b|\\([^)\\n]*\\)\\s*=>)`, 'im'),
      // a method or typed function: [modifiers] [return type] name[<T>](…) … {   (the line opens a body)
      new RegExp(`^[ \\t]*${MODIFIERS}(?:[\\w$.<>\\[\\],?]+[ \\t]+)?${n}[ \\t]*(?:<[^>\\n]*>)?[ \\t]*\\([^;\\n]*\\)[^;\\n]*\\{[ \\t]*$`, 'im'),
      // Python methods and functions (`def` already above), Ruby `def self.name`
      new RegExp(`^[ \\t]*def\\s+(?:self\\.)?${n}\\b`, 'im'),
    ];
    for (const p of patterns) {
      const m = p.exec(text);
      // A method-shaped line that is really a control statement (`if (name(x)) {`) does not define it.
      if (!m || /^\s*(?:if|for|while|switch|catch|return|await|else|do|try|with|elif|yield|throw|new)\b/.test(m[0])) continue;
      const at = m[0].search(new RegExp(`\\b${n}\\b`, 'i'));
      return m[0].slice(at, at + name.length);
    }
  }
  return undefined;
}

/** Member definitions indented inside a class chunk, per language (a method per line that starts one). */
const JS_MEMBER = /^[ \t]+(?:(?:public|private|protected|static|async|readonly|override|abstract|get|set|declare)[ \t]+)*\*?[ \t]*(#?[A-Za-z_$][\w$]*)[ \t]*(?:<[^>\n]*>)?\(/;
const MEMBER: Readonly<Record<string, RegExp>> = {
  typescript: JS_MEMBER,
  javascript: JS_MEMBER,
  tsx: JS_MEMBER,
  python: /^[ \t]+(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)/,
  java: /^[ \t]+(?:(?:public|private|protected|static|final|abstract|synchronized|native|default)[ \t]+)*(?:<[^>\n]*>[ \t]+)?[\w$.<>[\], ?]+[ \t]+([A-Za-z_$][\w$]*)[ \t]*\(/,
  csharp: /^[ \t]+(?:(?:public|private|protected|internal|static|virtual|override|abstract|async|sealed|new|extern|unsafe)[ \t]+)*[\w.<>[\], ?]+[ \t]+([A-Za-z_]\w*)[ \t]*(?:<[^>\n]*>)?\(/,
  ruby: /^[ \t]+def[ \t]+(?:self\.)?([A-Za-z_]\w*[?!=]?)/,
  rust: /^[ \t]+(?:pub(?:\([^)\n]*\))?[ \t]+)?(?:(?:async|const|unsafe)[ \t]+)*fn[ \t]+([A-Za-z_]\w*)/,
  kotlin: /^[ \t]+(?:(?:public|private|protected|internal|open|override|suspend|inline|abstract)[ \t]+)*fun[ \t]+(?:<[^>\n]*>[ \t]*)?([A-Za-z_]\w*)/,
};
const NOT_MEMBERS = new Set(['if', 'for', 'while', 'switch', 'catch', 'return', 'function', 'await', 'new', 'throw', 'typeof', 'super', 'this', 'constructor', '__init__', 'else', 'do', 'try', 'with', 'yield', 'delete', 'void', 'import', 'export']);
const MAX_MEMBERS = 200;

/** Methods defined in a class chunk's text: name and line offset (0-based). Only lines one level deeper than the chunk's first line count. */
export function membersOf(language: string, text: string): { name: string; line: number }[] {
  const re = MEMBER[language];
  if (!re) return [];
  const lines = text.split('\n');
  const base = /^[ \t]*/.exec(lines[0] ?? '')![0].length;
  // The members' indentation: the first indented definition's (nested functions and bodies are deeper).
  let depth = -1;
  const out: { name: string; line: number }[] = [];
  for (let i = 1; i < lines.length && out.length < MAX_MEMBERS; i++) {
    const m = re.exec(lines[i]!);
    if (!m || NOT_MEMBERS.has(m[1]!)) continue;
    const indent = /^[ \t]*/.exec(lines[i]!)![0].length;
    if (indent <= base) continue;
    if (depth < 0) depth = indent;
    if (indent !== depth) continue;
    if (!out.some((o) => o.name === m[1])) out.push({ name: m[1]!, line: i });
  }
  return out;
}
