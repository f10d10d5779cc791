/**
 * File → language detection, and which languages have a tree-sitter grammar in
 * `@vscode/tree-sitter-wasm`.
 *
 * Language ids follow VS Code's where one exists (`typescriptreact` is the exception: we use
 * `tsx`, which is what the grammar is called). Unknown files are `plaintext`.
 */

/** Language id → wasm file of its tree-sitter grammar (in the package's `wasm/` folder). */
const GRAMMARS: Readonly<Record<string, string>> = {
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  rust: 'tree-sitter-rust.wasm',
  java: 'tree-sitter-java.wasm',
  // The package has no C grammar; the C++ grammar parses nearly all C (it fails on C code that
  // uses C++ keywords such as `class` or `new` as identifiers; the chunker still covers every line).
  c: 'tree-sitter-cpp.wasm',
  cpp: 'tree-sitter-cpp.wasm',
  csharp: 'tree-sitter-c-sharp.wasm',
  ruby: 'tree-sitter-ruby.wasm',
  php: 'tree-sitter-php.wasm',
  bash: 'tree-sitter-bash.wasm',
  css: 'tree-sitter-css.wasm',
  ini: 'tree-sitter-ini.wasm',
  powershell: 'tree-sitter-powershell.wasm',
};

/** Lower-cased extension (with the dot) → language id. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
  '.py': 'python',
  '.pyi': 'python',
  '.pyw': 'python',
  '.go': 'go',
  '.rs': 'rust',
  '.java': 'java',
  '.c': 'c',
  '.h': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.cxx': 'cpp',
  '.c++': 'cpp',
  '.hpp': 'cpp',
  '.hh': 'cpp',
  '.hxx': 'cpp',
  '.h++': 'cpp',
  '.ipp': 'cpp',
  '.inl': 'cpp',
  '.tpp': 'cpp',
  '.ino': 'cpp',
  '.cu': 'cpp',
  '.cuh': 'cpp',
  '.cs': 'csharp',
  '.csx': 'csharp',
  '.rb': 'ruby',
  '.rake': 'ruby',
  '.gemspec': 'ruby',
  '.ru': 'ruby',
  '.php': 'php',
  '.phtml': 'php',
  '.sh': 'bash',
  '.bash': 'bash',
  '.zsh': 'bash',
  '.ksh': 'bash',
  '.ps1': 'powershell',
  '.psm1': 'powershell',
  '.psd1': 'powershell',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.mdx': 'markdown',
  '.mkd': 'markdown',
  '.json': 'json',
  '.jsonc': 'jsonc',
  '.json5': 'json',
  '.jsonl': 'json',
  '.ndjson': 'json',
  '.yml': 'yaml',
  '.yaml': 'yaml',
  '.toml': 'toml',
  '.ini': 'ini',
  '.cfg': 'ini',
  '.properties': 'properties',
  '.env': 'dotenv',
  '.css': 'css',
  '.scss': 'scss',
  '.sass': 'sass',
  '.less': 'less',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.vue': 'vue',
  '.svelte': 'svelte',
  '.astro': 'astro',
  '.xml': 'xml',
  '.xsd': 'xml',
  '.xsl': 'xml',
  '.svg': 'xml',
  '.csproj': 'xml',
  '.fsproj': 'xml',
  '.vbproj': 'xml',
  '.props': 'xml',
  '.targets': 'xml',
  '.plist': 'xml',
  '.sql': 'sql',
  '.graphql': 'graphql',
  '.gql': 'graphql',
  '.proto': 'proto',
  '.kt': 'kotlin',
  '.kts': 'kotlin',
  '.swift': 'swift',
  '.scala': 'scala',
  '.sc': 'scala',
  '.groovy': 'groovy',
  '.gradle': 'groovy',
  '.dart': 'dart',
  '.lua': 'lua',
  '.pl': 'perl',
  '.pm': 'perl',
  '.r': 'r',
  '.jl': 'julia',
  '.ex': 'elixir',
  '.exs': 'elixir',
  '.erl': 'erlang',
  '.hrl': 'erlang',
  '.hs': 'haskell',
  '.ml': 'ocaml',
  '.mli': 'ocaml',
  '.fs': 'fsharp',
  '.fsi': 'fsharp',
  '.fsx': 'fsharp',
  '.vb': 'vb',
  '.clj': 'clojure',
  '.cljs': 'clojure',
  '.cljc': 'clojure',
  '.edn': 'clojure',
  '.elm': 'elm',
  '.zig': 'zig',
  '.nim': 'nim',
  '.m': 'objective-c',
  '.mm': 'objective-cpp',
  '.tf': 'terraform',
  '.tfvars': 'terraform',
  '.hcl': 'hcl',
  '.nix': 'nix',
  '.bat': 'bat',
  '.cmd': 'bat',
  '.cmake': 'cmake',
  '.mk': 'makefile',
  '.dockerfile': 'dockerfile',
  '.rst': 'restructuredtext',
  '.adoc': 'asciidoc',
  '.tex': 'latex',
  '.txt': 'plaintext',
  '.text': 'plaintext',
  '.log': 'log',
  '.csv': 'csv',
  '.tsv': 'tsv',
};

/** Exact lower-cased file names → language id (checked before the extension). */
const BASENAMES: Readonly<Record<string, string>> = {
  dockerfile: 'dockerfile',
  containerfile: 'dockerfile',
  makefile: 'makefile',
  gnumakefile: 'makefile',
  'cmakelists.txt': 'cmake',
  rakefile: 'ruby',
  gemfile: 'ruby',
  podfile: 'ruby',
  vagrantfile: 'ruby',
  brewfile: 'ruby',
  '.bashrc': 'bash',
  '.bash_profile': 'bash',
  '.bash_aliases': 'bash',
  '.profile': 'bash',
  '.zshrc': 'bash',
  '.zprofile': 'bash',
  '.envrc': 'bash',
  '.gitconfig': 'ini',
  '.editorconfig': 'ini',
  '.npmrc': 'ini',
  '.gitignore': 'ignore',
  '.dockerignore': 'ignore',
  '.npmignore': 'ignore',
  '.env': 'dotenv',
  'tsconfig.json': 'jsonc',
  'jsconfig.json': 'jsonc',
  '.eslintrc': 'json',
  '.prettierrc': 'json',
  '.babelrc': 'json',
  'cargo.lock': 'toml',
  'pipfile': 'toml',
  'go.mod': 'go.mod',
  'go.sum': 'go.sum',
  license: 'plaintext',
  readme: 'plaintext',
};

/** Interpreters named on a `#!` line → language id. */
const SHEBANGS: ReadonlyArray<[RegExp, string]> = [
  [/\b(?:ba|z|k|da)?sh\b/, 'bash'],
  [/\bpython[0-9.]*\b/, 'python'],
  [/\b(?:node|nodejs|bun)\b/, 'javascript'],
  [/\b(?:deno|ts-node|tsx)\b/, 'typescript'],
  [/\bruby\b/, 'ruby'],
  [/\bphp\b/, 'php'],
  [/\bpwsh\b/, 'powershell'],
];

function basename(path: string): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(slash + 1);
}

/**
 * The language id of a file, from its name (and, for files without a known name or extension,
 * from a `#!` line at the start of `text` when given). Unknown files are `plaintext`.
 */
export function detectLanguage(path: string, text?: string): string {
  const name = basename(path).toLowerCase();
  const byName = BASENAMES[name];
  if (byName) return byName;
  if (name.startsWith('dockerfile.') || name.endsWith('.dockerfile')) return 'dockerfile';
  if (name.startsWith('.env.')) return 'dotenv';
  const dot = name.lastIndexOf('.');
  if (dot > 0 || (dot === 0 && name.length > 1)) {
    const byExt = EXTENSIONS[name.slice(dot)];
    if (byExt) return byExt;
  }
  if (text !== undefined) {
    const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    if (text.startsWith('#!', start)) {
      const end = text.indexOf('\n', start);
      const line = text.slice(start, end < 0 ? undefined : end);
      for (const [re, lang] of SHEBANGS) if (re.test(line)) return lang;
    }
  }
  return 'plaintext';
}

/** The wasm file name of the tree-sitter grammar for a language id, if the package ships one. */
export function grammarFor(language: string): string | undefined {
  return GRAMMARS[language];
}

/** Whether the chunker splits this language by syntax (definitions) rather than by lines. */
export function hasGrammar(language: string): boolean {
  return language in GRAMMARS;
}

/** All language ids that have a grammar. */
export function languagesWithGrammar(): string[] {
  return Object.keys(GRAMMARS);
}

/** Other names callers may use for a language (VS Code ids, common aliases) → our id. */
const ALIASES: Readonly<Record<string, string>> = {
  typescriptreact: 'tsx',
  javascriptreact: 'javascript',
  jsx: 'javascript',
  js: 'javascript',
  ts: 'typescript',
  py: 'python',
  golang: 'go',
  rs: 'rust',
  'c++': 'cpp',
  cs: 'csharp',
  'c#': 'csharp',
  rb: 'ruby',
  sh: 'bash',
  shell: 'bash',
  shellscript: 'bash',
  zsh: 'bash',
  md: 'markdown',
  yml: 'yaml',
  text: 'plaintext',
  txt: 'plaintext',
};

/** Maps a caller-supplied language name to our id (lower-cased; aliases resolved). */
export function normalizeLanguage(language: string): string {
  const l = language.trim().toLowerCase();
  return ALIASES[l] ?? l;
}
