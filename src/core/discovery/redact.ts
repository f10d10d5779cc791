/**
 * Redacts secrets inside otherwise indexed files. It runs twice: when a file is indexed (so chunk
 * text on disk and embeddings never hold them; see `indexWorkspace`) and again before anything is
 * sent to an LLM. Secret *files* are never indexed at all (see discovery); this catches keys pasted
 * into ordinary files.
 *
 * What is found, by shape rather than by example:
 * - private-key blocks (PEM, PuTTY), also written as quoted line lists or concatenated strings, and
 *   runs of base64 lines that look like key material;
 * - well-known token formats (cloud, SaaS and package-registry keys, JWTs);
 * - the VALUE assigned to a secret-like name (`password`, `DB_PASSWORD`, `awsSecretAccessKey`,
 *   `client_secret`, `x-api-key`, `SECRET_KEY`…) in env/shell, YAML, TOML, INI/properties, JSON,
 *   XML elements and attributes, code literals and keyword arguments, setter/builder calls,
 *   defaults of environment reads, connection strings (`Password=…;`), query strings;
 * - passwords in URLs (`scheme://user:pw@`, `redis://:pw@`), `Authorization: Bearer/Basic …`.
 *
 * Names are kept, only values are replaced, and a replacement never adds or removes a line break,
 * so line numbers stay exact. Values that are not secrets are left alone: references
 * (`os.environ["X"]`, `${X}`, `{{ x }}`), expressions in code, empty values, booleans, type
 * annotations. Every pattern is linear in the input (no nested quantifiers over the same text).
 */

export interface RedactionResult {
  text: string;
  /** How many secrets of each kind were replaced. */
  redacted: Record<string, number>;
}

/** How unquoted values are read: as expressions (code), as literal values (config), or as words (prose). */
type Mode = 'code' | 'config' | 'prose';

const CODE_EXTENSIONS = new Set(
  (
    'ts tsx mts cts js jsx mjs cjs py pyi pyw go rs java kt kts scala sc groovy gradle cs csx fs fsx vb c h cc cpp cxx c++ hpp hh hxx ' +
    'ipp inl cu m mm swift rb rake gemspec php phtml lua pl pm r jl dart ex exs erl hrl hs ml mli clj cljs cljc elm nim zig v sol ' +
    'vue svelte astro html htm cshtml razor jsp erb ejs hbs twig coffee'
  ).split(' '),
);
const PROSE_EXTENSIONS = new Set('md markdown mdx txt text rst adoc asciidoc org tex'.split(' '));

function modeFor(path: string | undefined): Mode {
  if (!path) return 'code';
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  const ext = dot > 0 ? base.slice(dot + 1) : '';
  if (CODE_EXTENSIONS.has(ext)) return 'code';
  if (PROSE_EXTENSIONS.has(ext)) return 'prose';
  return 'config';
}

/** Replaces secrets in `text`. `path` (relative file path) decides how unquoted values are read. */
export function redactSecretsInText(text: string, path?: string): RedactionResult {
  const redacted: Record<string, number> = {};
  const count = (kind: string) => {
    redacted[kind] = (redacted[kind] ?? 0) + 1;
  };
  let out = redactKeyBlocks(text, count);
  for (const { name, re, keep } of TOKEN_PATTERNS) {
    out = out.replace(re, (...m: unknown[]) => {
      count(name);
      return keep ? `${m[1] as string}[REDACTED ${name}]` : `[REDACTED ${name}]`;
    });
  }
  out = out.replace(URL_CREDENTIALS, (whole: string, scheme: string, user: string, pass: string | undefined) => {
    if (pass !== undefined) {
      if (!pass || isReference(pass) || pass.startsWith('[REDACTED')) return whole;
      count('password in URL');
      return `${scheme}${user}:[REDACTED]@`;
    }
    if (!looksRandom(user) || user.startsWith('[REDACTED')) return whole;
    count('token in URL');
    return `${scheme}[REDACTED]@`;
  });
  out = out.replace(AUTH_SCHEME, (whole: string, scheme: string, token: string) => {
    // `Bearer`/`Basic` are followed by a credential; `Token nextToken` may be a declaration.
    if (/^(?:[Bb]earer|Basic)/.test(scheme) ? !isCredentialWord(token) : !looksRandom(token)) return whole;
    count('authorization header');
    return `${scheme}[REDACTED]`;
  });
  out = out.replace(CURL_USER, (whole: string, head: string, pass: string) => {
    if (isReference(pass)) return whole;
    count('password in URL');
    return `${head}[REDACTED]`;
  });
  out = redactAssignments(out, modeFor(path), count);
  return { text: out, redacted };
}

// ---------------------------------------------------------------------------------------------
// Well-known token formats: replaced wherever they appear.

const TOKEN_PATTERNS: { name: string; re: RegExp; keep?: boolean }[] = [
  { name: 'AWS access key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { name: 'GitHub token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { name: 'GitLab token', re: /\bgl(?:pat|dt|rt|ptt|cbt|oas|ft|imt|agent|soat)-[A-Za-z0-9_-]{20,}/g },
  { name: 'Slack token', re: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g },
  { name: 'Slack webhook', re: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g },
  { name: 'Discord webhook', re: /https:\/\/(?:\w+\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+/g },
  { name: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}/g },
  { name: 'Google OAuth secret', re: /\bGOCSPX-[A-Za-z0-9_-]{20,}/g },
  { name: 'Google OAuth token', re: /\bya29\.[A-Za-z0-9_-]{20,}/g },
  { name: 'Stripe key', re: /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { name: 'Stripe webhook secret', re: /\bwhsec_[A-Za-z0-9+/=]{20,}/g },
  { name: 'Anthropic key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  // OpenAI and compatible (DeepSeek, OpenRouter `sk-or-…`): mixed case or digits, not a CSS class.
  { name: 'OpenAI key', re: /\bsk-(?=[A-Za-z0-9_-]{20,})(?=[a-z_-]*[A-Z0-9])[A-Za-z0-9_-]{20,}/g },
  { name: 'JWT', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { name: 'Mapbox token', re: /\b[sp]k\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g },
  { name: 'npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { name: 'PyPI token', re: /\bpypi-AgE[A-Za-z0-9_-]{50,}/g },
  { name: 'NuGet key', re: /\boy2[a-z0-9]{43}\b/g },
  { name: 'Hugging Face token', re: /\bhf_[A-Za-z0-9]{30,}/g },
  { name: 'SendGrid key', re: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g },
  { name: 'Twilio key', re: /\bSK[0-9a-fA-F]{32}\b/g },
  { name: 'Mailgun key', re: /\bkey-[0-9a-f]{32}\b/g },
  { name: 'Mailchimp key', re: /\b[0-9a-f]{32}-us\d{1,2}\b/g },
  { name: 'Brevo key', re: /\bxkeysib-[0-9a-f]{64}-[A-Za-z0-9]{16}\b/g },
  { name: 'Square token', re: /\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,}/g },
  { name: 'Telegram bot token', re: /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/g },
  { name: 'Databricks token', re: /\bdapi[0-9a-f]{32}(?:-\d)?\b/g },
  { name: 'Postman key', re: /\bPMAK-[0-9a-f]{24}-[0-9a-f]{34}\b/g },
  { name: 'DigitalOcean token', re: /\bdo[por]_v1_[a-f0-9]{64}\b/g },
  { name: 'Shopify token', re: /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g },
  { name: 'Vault token', re: /\bhv[sbr]\.[A-Za-z0-9_-]{24,}/g },
  { name: 'Doppler token', re: /\bdp\.(?:st|pt|sa|ct|scim|audit)\.[A-Za-z0-9_.-]{40,}/g },
  { name: 'Supabase token', re: /\bsbp_[a-f0-9]{40}\b/g },
  { name: 'Linear key', re: /\blin_(?:api|oauth)_[A-Za-z0-9]{40}\b/g },
  { name: 'Grafana token', re: /\b(?:glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})/g },
  { name: 'Sentry token', re: /\bsntr[ysu]_[A-Za-z0-9+/=_-]{40,}/g },
  { name: 'New Relic key', re: /\bNR(?:AK|AA|II|JS)-[A-Za-z0-9]{19,32}\b/g },
  { name: 'Atlassian token', re: /\bATATT3[A-Za-z0-9_=-]{50,}/g },
  { name: 'age secret key', re: /\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b/g },
  { name: 'Azure AD client secret', re: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g },
  { name: 'Dynatrace token', re: /\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b/g },
  // Azure connection strings and SAS URLs: the key part only.
  { name: 'Azure key', re: /((?:AccountKey|SharedAccessKey|SharedAccessSignature)=)[A-Za-z0-9+/=%]{20,}/gi, keep: true },
  { name: 'Azure SAS signature', re: /([?&]sig=)[A-Za-z0-9%+/=]{20,}/g, keep: true },
  { name: 'AWS secret key', re: /((?:aws_?secret_?(?:access_?)?key|secretAccessKey)["'\s:=]{1,6})[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi, keep: true },
];

/** `scheme://user:password@` (user may be empty) or `scheme://token@`. */
const URL_CREDENTIALS = /(?<![A-Za-z0-9+.-])([a-z][a-z0-9+.-]{0,30}:\/\/)([^\s:/?#@"'`<>]{0,200})(?::([^\s/?#"'`<>]{0,500}))?@/gi;
/** `Authorization: Bearer <token>`, `Basic <base64>` and the like, wherever they appear. */
const AUTH_SCHEME = /\b((?:[Bb]earer|Basic|Digest|Token|Bot|SSWS|ApiKey|Key)[ \t]+)([A-Za-z0-9._~+/=:-]{8,2048})/g;
/** `curl -u user:password`. */
const CURL_USER = /((?:^|\s)(?:-u|--user)\s+["']?[^\s:"']{1,100}:)([^\s"']{1,500})/g;

// ---------------------------------------------------------------------------------------------
// Key blocks.

const BEGIN_KEY = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const END_KEY = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const PUTTY = /^\s*PuTTY-User-Key-File-\d+:/;
/** A base64 run inside a key line (the line may be quoted, concatenated, end in `\n`). */
const B64_RUN = /[A-Za-z0-9+/]{8,}={0,2}/g;
/** Decorations around key material in source code: quotes, `+`, `,`, `\n` escapes, brackets. */
const DECORATION = /\\[nr]|["'`+,;()[\]{}]/g;

function stripDecoration(line: string): string {
  return line.replace(DECORATION, '').trim();
}

/** A line that is key material: base64 only once quotes and concatenation are removed. */
function isKeyLine(line: string, minLength: number): boolean {
  if (line.length < minLength) return false;
  const core = stripDecoration(line);
  return core.length >= minLength && /^[A-Za-z0-9+/]+={0,2}$/.test(core) && /[0-9+/]/.test(core);
}

/** Inside a key block: base64, PEM headers (`Proc-Type: …`), blank or decoration-only lines. */
function isBlockLine(line: string): boolean {
  const core = stripDecoration(line);
  if (core === '' || /^\s*["'`]?[A-Za-z-]{3,30}: [^\n]{0,200}$/.test(line)) return true;
  return /^[A-Za-z0-9+/]+={0,2}$/.test(core) && (core.length >= 40 || /[0-9+/=]/.test(core));
}

/**
 * `/PRIVATE KEY|PuTTY-User-Key|[A-Za-z0-9+/]{40}/.test(text)`, the gate before the line-by-line
 * work, with the run of 40 base64 characters found in one pass over character codes: the regex
 * tried up to 40 characters from every position inside an identifier (~3 % of a chunking thread's
 * time on a code corpus). `test/unit/redact.test.ts` compares the two on seeded random texts.
 */
export function mayHoldKeyMaterial(text: string): boolean {
  if (text.includes('PRIVATE KEY') || text.includes('PuTTY-User-Key')) return true;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 47) {
      if (++run >= 40) return true;
    } else run = 0;
  }
  return false;
}

/**
 * Private-key blocks (also split into quoted lines or concatenated strings), PuTTY keys, and runs
 * of 3+ lines of base64 key material without markers (the middle or tail of a block whose other
 * lines are elsewhere). Works line by line, so each line keeps its line break.
 */
function redactKeyBlocks(text: string, count: (kind: string) => void): string {
  if (!mayHoldKeyMaterial(text)) return text;
  const lines = text.split('\n');
  const redactRuns = (i: number) => {
    lines[i] = lines[i]!.replace(B64_RUN, (r) => (r.length >= 16 || /[0-9+/=]/.test(r) ? '[REDACTED key material]' : r));
  };
  // Inside a marked block every base64 piece goes, down to a last line of `Ag==`.
  const redactBlockLine = (i: number) => {
    lines[i] = lines[i]!.replace(/[A-Za-z0-9+/]{4,}={0,2}|[A-Za-z0-9+/]{1,3}={1,2}/g, (r) => (/^(?:Proc|Type|DEK|Info|ENCRYPTED)$/.test(r) ? r : '[REDACTED private key]'));
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const begin = BEGIN_KEY.exec(line);
    if (begin || PUTTY.test(line)) {
      count('private key');
      if (begin) {
        const end = END_KEY.exec(line.slice(begin.index));
        // One-line blocks (JSON `"-----BEGIN…\nMII…\n-----END…"`): everything between the markers.
        const from = begin.index + begin[0].length;
        const to = end ? begin.index + end.index : line.length;
        lines[i] = `${line.slice(0, from)}${line.slice(from, to).replace(B64_RUN, '[REDACTED private key]')}${line.slice(to)}`;
        if (end) continue;
      }
      // Following lines: until the END marker or the first line that is not key material.
      for (let j = i + 1; j < lines.length && j <= i + 500; j++) {
        const l = lines[j]!;
        const end = END_KEY.exec(l);
        if (end) {
          lines[j] = `${l.slice(0, end.index).replace(B64_RUN, '[REDACTED private key]')}${l.slice(end.index)}`;
          i = j;
          break;
        }
        if (begin ? !isBlockLine(l) : !(isBlockLine(l) || /^\s*(?:Private-Lines|Public-Lines|Private-MAC|Encryption|Comment|Key-Derivation|Argon2-\w+): /.test(l))) {
          i = j - 1;
          break;
        }
        redactBlockLine(j);
        i = j;
      }
      continue;
    }
    if (!isKeyLine(line, 40)) continue;
    // A run of key lines without a BEGIN marker in this file.
    let j = i;
    while (j < lines.length && isKeyLine(lines[j]!, 40)) j++;
    // The short last line of a block, and a dangling END marker, belong to it.
    const tail = j < lines.length && !END_KEY.test(lines[j]!) && isKeyLine(lines[j]!, 4) ? j + 1 : j;
    if (j - i >= 3 || (j < lines.length && END_KEY.test(lines[j]!))) {
      count('key material');
      for (let k = i; k < tail; k++) redactRuns(k);
      if (j < lines.length && END_KEY.test(lines[j]!)) {
        const l = lines[j]!;
        const end = END_KEY.exec(l)!;
        lines[j] = `${l.slice(0, end.index).replace(B64_RUN, '[REDACTED key material]')}${l.slice(end.index)}`;
      }
    }
    i = Math.max(i, tail - 1);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Values assigned to secret-like names.

/** Words whose presence makes an identifier worth a closer look (cheap pre-filter). */
const KEYWORD = /pass|pwd|secret|token|key|auth|cred|salt|dsn|sig|cookie|phrase|cert/gi;
const NAME_CHAR = /[A-Za-z0-9_.$-]/;
/** Trailing name parts that describe the form of the value, not what it is (`API_KEY_B64`). */
const VALUE_SUFFIXES = new Set([
  'value', 'val', 'str', 'string', 'b64', 'base64', 'hex', 'raw', 'plain', 'plaintext', 'enc', 'encrypted', 'encoded', 'bytes',
  'hash', 'hashed', 'digest', 'prod', 'production', 'dev', 'development', 'staging', 'stage', 'test', 'local', 'default', 'live', 'sandbox',
]);
/** Name endings (separators removed, lower case) that make any literal value a secret. */
const STRONG_ENDINGS =
  /(?:password|passwd|pwd|passphrase|passcode|secret|token|apikey|credentials?|creds|privatekey|dsn|authorization|requirepass|masterauth|(?:access|secret|private|signing|session|encryption|master|account|shared|auth|client|app|hmac|jwt|crypt|crypto|license|deploy|server|storage|subscription|consumer|webhook|sas|cookie|aes|admin|service|root|decryption|verification)key)$/;
const NOT_PASS = /(?:by|com|sur|tres|over|under|render|multi|sub|first|second|third|last|next|single|one|two|each|shader|compile)pass$/;

type Strength = 'strong' | 'weak';

/** Whether a name (identifier, key, header, attribute) holds a secret: strong = always, weak = if the value looks random. */
export function secretNameStrength(name: string): Strength | undefined {
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  while (parts.length > 1 && (VALUE_SUFFIXES.has(parts.at(-1)!) || /^\d+$/.test(parts.at(-1)!))) parts.pop();
  if (!parts.length) return undefined;
  const last = parts.at(-1)!.replace(/\d+$/, '');
  const joined = parts.join('').replace(/\d+$/, '');
  if (last === 'pass' || (joined.endsWith('pass') && /(?:require|master|db|admin|user|root|smtp|mail|ftp|proxy|mysql|pg|redis|store|key|bind)pass$/.test(joined))) {
    return NOT_PASS.test(joined) ? undefined : 'strong';
  }
  if (STRONG_ENDINGS.test(joined) || last === 'salt' || last === 'pepper' || last === 'pat') return 'strong';
  if (/(?:key|keys|auth|sig|signature|cookie|otp|pin|seed|cert)$/.test(last) || joined.endsWith('key')) return 'weak';
  return undefined;
}

/** References and non-values that are never secrets themselves. */
function isReference(v: string): boolean {
  return (
    /^(?:\$[({A-Za-z_]|\{\{|\{%|%\(|%\{|%env\(|%[A-Z_]+%|#\{|<%|@\{|@[A-Za-z_]+@|!(?:Ref|Sub|GetAtt|ImportValue)\b|\[REDACTED)/.test(v) ||
    /^<[^<>]*>$/.test(v) ||
    /^(?:\{[A-Za-z_][\w.]*\}|%s|%\(\w+\)s|:[A-Za-z_]\w*|\?)$/.test(v) ||
    /\$\{[^}]*\}/.test(v) ||
    /^(?:true|false|yes|no|on|off|null|nil|none|undefined|~|required|optional)$/i.test(v) ||
    /^(?:process\.env|os\.environ|os\.getenv|System\.getenv|ENV\[|env\(|getenv\(|Environment\.GetEnvironmentVariable|secrets\.|vars\.)/.test(v)
  );
}

/** Words joined by separators, maybe with a short version number: identifiers and paths, not keys. */
function isWordLike(v: string): boolean {
  return /^[A-Za-z]+\d{0,3}(?:[_.:/ -]+[A-Za-z]+\d{0,3})*[_.:/-]?\d{0,3}$/.test(v);
}

/** A value that looks machine-generated: long, no spaces, not made of words. */
function looksRandom(v: string): boolean {
  if (v.length < 12 || v.length > 4096 || /\s/.test(v) || isWordLike(v)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^[./~]/.test(v)) return false; // URLs, paths
  const digits = (v.match(/\d/g) ?? []).length;
  return /[A-Za-z]/.test(v) ? digits > 0 || /[a-z][A-Z]|[A-Z][a-z].*[A-Z]/.test(v) : digits >= 16;
}

/** After `Bearer`/`Basic`: a credential, not an English word (`Bearer authentication`). */
function isCredentialWord(v: string): boolean {
  if (v.startsWith('[REDACTED')) return false;
  // `Bearer realm="…"`, `Basic authentication.`: an auth parameter or a word, not a credential.
  if ((/^[A-Za-z_]+=/.test(v) && !/^[A-Za-z0-9+/]+={1,2}$/.test(v)) || /^[A-Za-z]+[.,:;]?$/.test(v.replace(/^[A-Z][a-z]+(?=[A-Z])/, ''))) return false;
  if (looksRandom(v)) return true;
  return /\d|[+/=._~]|.[A-Z]/.test(v) && !/^[A-Z][a-z]+$/.test(v) && !/^[A-Z_]+$/.test(v);
}

/** UI text (`'Password is required'`, `"Mot de passe"`), not a password. */
function isProse(v: string): boolean {
  return /\s/.test(v) && !/\d/.test(v) && (/^\p{Lu}/u.test(v) || /[.!?:…]$/.test(v));
}

function isSecretValue(v: string, strength: Strength, name: string): boolean {
  if (v.length < 4 || isReference(v) || v.includes('[REDACTED') || isProse(v)) return false;
  // Special tokens of language models (`sep_token: "[SEP]"`, `"<|endoftext|>"`), messages in other scripts.
  if (/^\[[A-Za-z_|/]+\]$|^<\|?[^<>]*\|?>$/.test(v) || /[^\x20-\x7e]/.test(v)) return false;
  if (/^[-+]?\d+(?:\.\d+)?$/.test(v)) {
    // `max_tokens: 4096` is not a secret; a numeric password or PIN is.
    return strength === 'strong' && v.length >= 4 && /(?:pass|pwd|pin|secret|passcode)/i.test(name);
  }
  // `const REFRESH_TOKEN = "refresh_token"`: the value is the name itself (a key, an event name).
  if (v.replace(/[^A-Za-z0-9]/g, '').toLowerCase() === name.slice(name.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9]/g, '').toLowerCase()) return false;
  if (strength === 'weak') return looksRandom(v);
  if (/^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+$/.test(v)) return false; // `sift.llm.apiKey`: a setting or storage key name
  return true;
}

const SEPARATOR = /[ \t]*(=>|:=|===?|!==?|\?\?|\|\||\?:|:-|::|=|:|,|\(|[ \t]or[ \t]|[ \t]+(?=["'`])|[ \t]+)[ \t]*/y;
const STRING_PREFIX = /(?:[rRbBuUfF]{1,2}|@|\$@?|@\$)?(["'`])/y;
const XML_VALUE_ATTR = /[ \t]+(?:value|val|content)[ \t]*=[ \t]*(["'])/y;
const PLIST_VALUE = /<\/key>\s{0,200}<(string|data)>/y;
const LINE_START_PREFIX = /^[ \t]*(?:(?:export|ENV|ARG|set|SET|setenv|declare|readonly|local)[ \t]+(?:-[a-z]+[ \t]+)?)?$/;

/** Longest value looked at: a longer quoted string or line is left as it is. */
const MAX_VALUE = 4096;

/**
 * Position lookups over one text whose cost is amortised linear over a left-to-right pass, however
 * many keyword hits one long line holds: the next occurrence of a character is cached, the current
 * line's start and the quotes before the current position are tracked incrementally.
 */
class Cursor {
  private readonly next = new Map<string, { from: number; at: number }>();
  private pos = 0;
  private lineStart = 0;
  private quotes = 0;

  constructor(private readonly text: string) {}

  /** First `ch` at or after `from`; -1 if none. */
  nextOf(ch: string, from: number): number {
    const c = this.next.get(ch);
    if (c && c.from <= from && (c.at === -1 || c.at >= from)) return c.at;
    const at = this.text.indexOf(ch, from);
    this.next.set(ch, { from, at });
    return at;
  }

  /** `ch` at or after `from` and before the end of the line (and within `MAX_VALUE`); -1 if none. */
  onLine(ch: string, from: number): number {
    const at = this.nextOf(ch, from);
    const nl = this.nextOf('\n', from);
    return at < 0 || (nl >= 0 && nl < at) || at - from > MAX_VALUE ? -1 : at;
  }

  /** End of the line from `from` (before `\r\n`). */
  lineEnd(from: number): number {
    let end = this.nextOf('\n', from);
    if (end < 0) end = this.text.length;
    return this.text[end - 1] === '\r' ? end - 1 : end;
  }

  /** Start of the line holding `at`, and whether an odd number of quotes precede `at` on it. */
  line(at: number): { start: number; inString: boolean } {
    if (at < this.pos) {
      // Rare (a name that began before the last one ended): a bounded look back.
      let i = at - 1;
      let q = 0;
      for (const stop = Math.max(0, at - MAX_VALUE); i >= stop && this.text[i] !== '\n'; i--) if (/["'`]/.test(this.text[i]!)) q++;
      return { start: i + 1, inString: q % 2 === 1 };
    }
    for (; this.pos < at; this.pos++) {
      const c = this.text[this.pos];
      if (c === '\n') {
        this.lineStart = this.pos + 1;
        this.quotes = 0;
      } else if (c === '"' || c === "'" || c === '`') this.quotes++;
    }
    return { start: this.lineStart, inString: this.quotes % 2 === 1 };
  }

  /** End of a quoted string that opens at `open` (the quote), on the same line; -1 if none. */
  closingQuote(open: number): number {
    const q = this.text[open]!;
    let from = open + 1;
    for (;;) {
      const at = q === '`' ? this.nextOf(q, from) : this.onLine(q, from);
      if (at < 0 || at - open > MAX_VALUE) return -1;
      let bs = 0;
      while (this.text[at - 1 - bs] === '\\') bs++;
      if (bs % 2 === 0) return at;
      from = at + 1;
    }
  }
}

/**
 * Finds `<secret-like name> <separator> <value>` in all the common syntaxes and replaces the value.
 * One left-to-right pass over keyword hits; each hit does bounded work.
 */
function redactAssignments(text: string, mode: Mode, count: (kind: string) => void): string {
  const edits: [number, number, string][] = [];
  const re = new RegExp(KEYWORD.source, 'gi');
  const cur = new Cursor(text);
  let m: RegExpExecArray | null;
  let done = 0; // text before this has been dealt with
  const redact = (from: number, to: number, kind: string) => {
    edits.push([from, to, '[REDACTED]']);
    count(kind);
    done = to;
    re.lastIndex = Math.max(re.lastIndex, to);
  };
  while ((m = re.exec(text))) {
    let s = m.index;
    let e = m.index + m[0].length;
    while (s > 0 && m.index - s < 100 && NAME_CHAR.test(text[s - 1]!)) s--;
    while (e < text.length && e - m.index < 100 && NAME_CHAR.test(text[e]!)) e++;
    re.lastIndex = e;
    if (s < done) continue;
    while (s < e && /[.$-]/.test(text[s]!)) s++;
    while (e > s && /[.-]/.test(text[e - 1]!)) e--;
    const name = text.slice(s, e);
    // `setPassword("…")`, `withApiKey("…")`: the name after the verb.
    const verb = /^(?:set|with|put|use)(?=[A-Z_])/.test(name.slice(name.lastIndexOf('.') + 1));
    const strength = secretNameStrength(name) ?? (name.includes('.') ? secretNameStrength(name.slice(name.lastIndexOf('.') + 1)) : undefined);
    if (!strength) continue;
    const before = text[s - 1] ?? '';
    let p = e;

    // XML element `<password>…</password>`.
    if (before === '<' && text[e] === '>') {
      const close = cur.onLine('<', e + 1);
      const end = close < 0 ? -1 : close;
      if (end > e + 1 && end - e < 4096 && !text.slice(e + 1, end).includes('\n')) {
        const v = text.slice(e + 1, end).trim();
        if (isSecretValue(v, strength, name)) redact(e + 1, end, 'secret value');
      }
      continue;
    }
    // plist `<key>password</key><string>…</string>`.
    if (text.slice(s - 5, s) === '<key>') {
      PLIST_VALUE.lastIndex = e;
      const pm = PLIST_VALUE.exec(text);
      if (pm) {
        const from = e + pm[0].length;
        const end = cur.onLine('<', from);
        if (end > from && end - from < 8192 && isSecretValue(text.slice(from, end).trim(), strength, name)) redact(from, end, 'secret value');
      }
      continue;
    }

    const { start: lineStart, inString } = cur.line(s);
    const linePrefix = text.slice(Math.max(lineStart, s - 200), s);
    // `typeof token === "string"`, `type Token = "a" | "b"`: types, not values.
    // Also through optional chaining or a non-null assertion (`typeof v?.password === "string"`, `typeof cfg!.token`).
    if (mode === 'code' && /(?:\btypeof|\btype|\binterface|\benum|\bcase|\binstanceof)\s+(?:[\w$]+(?:\?\.|!\.|\.))*$/.test(linePrefix)) continue;
    // `the dense pass: \`observe\` …`: the English word after another word, then a colon and a space, is
    // prose, not a key (`pass: x` at a line start, `user=bob pass=x`, `export pass=x` keep it).
    if (name.toLowerCase() === 'pass' && /^:[ \t]/.test(text.slice(e, e + 2)) && /(?:^|[\s(])[A-Za-z]+[ \t]+$/.test(linePrefix) && !LINE_START_PREFIX.test(linePrefix.slice(linePrefix.lastIndexOf('\n') + 1))) continue;
    // `${DB_PASSWORD:-default}` (shell, compose), `${DB_PASSWORD:default}` (Spring): the default.
    if (before === '{' && text[s - 2] === '$' && /^(?::-|:=|:|-)/.test(text.slice(e, e + 2))) {
      const from = e + (/^(?::-|:=)/.test(text.slice(e, e + 2)) ? 2 : 1);
      const close = cur.onLine('}', from);
      if (close > from && close - from < 1024 && !text.slice(from, close).includes('\n') && isSecretValue(text.slice(from, close), strength, name)) {
        redact(from, close, 'secret value');
      }
      continue;
    }
    const quotedName = /["'`]/.test(before) && text[e] === before;
    // `"Password=…;"`, `?token=…&`, `"X-Api-Key: …"`: a value embedded in a string or URL.
    let k = s - 1;
    while (k >= lineStart && (text[k] === ' ' || text[k] === '\t')) k--;
    const ctx = k >= lineStart ? text[k]! : '';
    // In code, `;` `?` `&` only introduce a value inside a string literal (odd number of quotes before).
    const embeddedIn = !quotedName && /[;?&"'`]/.test(ctx) && (mode !== 'code' || /["'`]/.test(ctx) || inString) ? ctx : '';
    const embeddedSep = embeddedIn ? /^[ \t]*[=:][ \t]*/.exec(text.slice(e, e + 8)) : null;
    // `'core.askPass='`: the value of a string that opened before the name is empty.
    if (embeddedSep && /["'`]/.test(embeddedIn) && text[e + embeddedSep[0].length] === embeddedIn) continue;
    if (embeddedSep && !(text[e] === ':' && text[e + 1] === ':') && !/["'`]/.test(text[e + embeddedSep[0].length] ?? '')) {
      const from = e + embeddedSep[0].length;
      const stop = embeddedIn === '?' || embeddedIn === '&' ? /[&#\s"'`<>)\]]/ : /[;&"'`<>\r\n]/;
      let end = from;
      if (text[from] === '{') {
        const close = cur.onLine('}', from);
        end = close > 0 && close - from < 1024 ? close + 1 : from;
      } else while (end < text.length && end - from < 2048 && !stop.test(text[end]!)) end++;
      const v = text.slice(from, end).trim();
      const query = embeddedIn === '?' || embeddedIn === '&';
      // `"X-Api-Key: …"`, `"Authorization: …"` are headers; `"acquireToken: called"` is a log message.
      if (embeddedSep[0].includes(':') && !(name.includes('-') || /^(?:proxy-)?authorization$/i.test(name) || looksRandom(v))) continue;
      if (v && (query ? !/^[{:<]/.test(v) : true) && isSecretValue(v, query && strength === 'weak' && /^(?:key|sig|signature)$/i.test(name) ? 'strong' : strength, name)) {
        redact(from, from + text.slice(from, end).trimEnd().length, query ? 'secret in query string' : 'secret in connection string');
      }
      continue;
    }

    if (quotedName) p++;
    // `password: str = "…"`, `const apiKey: string = "…"`, `let key: &str = "…"`: skip the type annotation.
    if (mode === 'code' && text[p] === ':') {
      const ann = /^:[ \t]*[A-Za-z_&][\w.[\], |?<>&']{0,80}?[ \t]*=(?![=>])/.exec(text.slice(p, p + 100));
      if (ann) p += ann[0].length - 1;
    }
    // `os.environ.get("X", …)` / `getenv("X") or …` / `ENV["X"] || …`
    const closedCall = quotedName && /^[)\]][ \t]*(?:or\b|\|\||\?\?)/.test(text.slice(p, p + 8));
    if (closedCall) p++;
    // `<add key="ApiKey" value="…"/>`
    if (quotedName) {
      XML_VALUE_ATTR.lastIndex = p;
      const xm = XML_VALUE_ATTR.exec(text);
      if (xm) {
        const open = p + xm[0].length - 1;
        const close = cur.closingQuote(open);
        if (close > open && isSecretValue(text.slice(open + 1, close), strength, name)) redact(open + 1, close, 'secret value');
        continue;
      }
    }
    SEPARATOR.lastIndex = p;
    const sm = SEPARATOR.exec(text);
    if (!sm) continue;
    const sep = sm[1]!.trim();
    if (sep === '::') continue;
    // `get("DB_PASSWORD", "default")`, `put("token", "…")`: only a first argument, not a list of field names.
    if (sep === ',' && !(quotedName && /\([ \t]*$/.test(text.slice(Math.max(lineStart, s - 20), s - 1)))) continue;
    const lastSegment = name.slice(name.lastIndexOf('.') + 1);
    if (sep === '(' && !(verb || name.includes('.'))) continue;
    if (sep === '(' && /^(?:get|fetch|load|read|find|lookup|has|is|delete|remove|clear|require|validate|prompt|ask|input)/i.test(lastSegment)) continue;
    const spaceOnly = sep === '' || sep === 'or';
    // `storePassword 'x'` (Gradle), `PASSWORD 'x'` (SQL); not prose in a comment (`we pass \`x\``).
    if (sep === '' && !(/^[A-Za-z_$][\w$]*$/.test(name) && (/[a-z][A-Z]|[A-Za-z]_[A-Za-z]/.test(name) || /^[A-Z_]+$/.test(name)))) continue;
    // `getenv("TOKEN") or "…"`, `process.env.API_KEY || "…"`; not `t.firstToken ?? '-'`.
    if (sep === 'or' ? !closedCall : /^(?:\|\||\?\?|\?:)$/.test(sep) && !(quotedName || /env|config|settings/i.test(name))) continue;
    if (sep === '' && sm[0].length === 0) continue;
    p += sm[0].length;

    // A quoted value.
    STRING_PREFIX.lastIndex = p;
    const qm = STRING_PREFIX.exec(text);
    if (qm) {
      const open = p + qm[0].length - 1;
      const close = cur.closingQuote(open);
      if (close < 0) continue;
      const v = text.slice(open + 1, close);
      if (/[fF$]/.test(qm[0].slice(0, -1)) && v.includes('{')) continue; // f-string / interpolation
      if (spaceOnly && sep === '' && mode === 'prose') continue;
      if (sep === ',' && secretNameStrength(v)) continue; // `("password", "token")`: two names
      if (isSecretValue(v, strength, name)) redact(open + 1, close, 'secret value');
      continue;
    }
    if (sep === '(' || sep === ',' || sep === '||' || sep === '??' || sep === 'or' || sep === '?:' || sep === '==' || sep === '===' || sep === '!=' || sep === '!==') continue;
    // An unquoted value.
    if (mode === 'code') {
      // Expressions, references, types: only a literal-looking token in a config-like position (`SECRET = abc…` in a heredoc).
      const tok = /^[A-Za-z0-9+/=_.~-]{12,512}/.exec(text.slice(p, p + 513));
      if (tok && strength === 'strong' && looksRandom(tok[0]) && !/[.(]/.test(text[p + tok[0].length] ?? '')) redact(p, p + tok[0].length, 'secret value');
      continue;
    }
    if (spaceOnly && (mode === 'prose' || (s - lineStart > 100 || !LINE_START_PREFIX.test(text.slice(lineStart, s))))) continue;
    const eol = cur.lineEnd(p);
    if (eol - p > MAX_VALUE) continue;
    let raw = text.slice(p, eol);
    if (mode === 'prose') {
      const tok = /^[^\s,;)\]}'"`<>]+/.exec(raw);
      if (!tok) continue;
      const v = tok[0].replace(/[.:]$/, '');
      if (isSecretValue(v, strength, name) && (/[^A-Za-z]/.test(v) || /.[A-Z]/.test(v)) && !/^https?:/.test(v)) redact(p, p + v.length, 'secret value');
      continue;
    }
    // Config: the rest of the line, without a trailing comment or JSON comma.
    raw = raw.replace(/[ \t]+(?:#|;|\/\/).*$/, '').replace(/,[ \t]*$/, '').trimEnd();
    if (!raw || /^[[{(!&*|>]/.test(raw)) continue;
    if (isSecretValue(raw, strength, name)) redact(p, p + raw.length, 'secret value');
  }
  if (!edits.length) return text;
  let out = '';
  let last = 0;
  for (const [from, to, rep] of edits) {
    out += text.slice(last, from) + rep;
    last = to;
  }
  return out + text.slice(last);
}
