/**
 * Where a chunk's text *defines* a name, beyond the chunk's own symbol path: a small class is one
 * chunk (`Uploader`) holding its methods, a Go file's chunk holds several funcs, a Python module's
 * top-level chunk its assignments. Declaration shapes of the languages Sift chunks — keyword
 * forms (`def`, `class`, `function`, `func`, `fn`, `struct`, …, Go receivers), bindings (`const x =`,
 * `x = lambda`), and methods (`async name(…) {`, `public Foo name(…) {`) — never a call (`name(x);`,
 * `await name(x)`), a use in an expression, or a mention in a comment's middle.
 */

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
