/**
 * Redacts secrets inside otherwise indexed files before anything is sent to an LLM: private-key
 * blocks and well-known credential shapes (cloud keys, tokens). Secret *files* are never indexed
 * at all (see discovery); this catches keys pasted into ordinary source files.
 */
const PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'private key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g },
  // Three or more lines of bare base64 (40+ characters each): the middle of a key block whose
  // BEGIN and END lines fell into other chunks, or key material pasted without markers.
  { name: 'key material', re: /^(?:[ \t]*[A-Za-z0-9+/]{40,}={0,2}[ \t]*(?:\r?\n|$)){3,}/gm },
  { name: 'PuTTY private key', re: /PuTTY-User-Key-File-\d+:[\s\S]*?(?:Private-MAC:[^\n]*|$)/g },
  { name: 'AWS access key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b/g },
  { name: 'AWS secret key', re: /(aws_secret_access_key|aws_secret_key|secretAccessKey)(["'\s:=]+)[A-Za-z0-9/+=]{40}/gi },
  { name: 'GitHub token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { name: 'Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { name: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { name: 'Stripe key', re: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g },
  { name: 'OpenAI key', re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b/g },
  { name: 'Anthropic key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g },
  { name: 'JWT', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g },
  { name: 'GitLab token', re: /\bgl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_-]{20,}\b/g },
  { name: 'npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { name: 'Hugging Face token', re: /\bhf_[A-Za-z0-9]{30,}\b/g },
  { name: 'Google OAuth secret', re: /\bGOCSPX-[A-Za-z0-9_-]{20,}\b/g },
  { name: 'SendGrid key', re: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b/g },
  { name: 'Slack webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g },
  { name: 'DigitalOcean token', re: /\bdo[por]_v1_[a-f0-9]{64}\b/g },
  { name: 'Shopify token', re: /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g },
  { name: 'Azure storage key', re: /(AccountKey=)[A-Za-z0-9+/=]{60,}/g },
  { name: 'password in URL', re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]{3,}(@)/gi },
  { name: 'Azure SAS signature', re: /([?&]sig=)[A-Za-z0-9%+/=]{20,}/g },
  // `password = "…"`, `client_secret: '…'`, `"apiKey": "…"`: keep the name, drop a quoted value of 8+ characters.
  {
    name: 'credential assignment',
    re: /((?:password|passwd|pwd|secret|client_secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|private[_-]?key)["']?\s*[:=]\s*)(["'`])(?!\[REDACTED)[^"'`\s]{8,}\2/gi,
  },
];

export interface RedactionResult {
  text: string;
  /** How many secrets of each kind were replaced. */
  redacted: Record<string, number>;
}

export function redactSecretsInText(text: string): RedactionResult {
  const redacted: Record<string, number> = {};
  let out = redactOrphanKeyTails(text, redacted);
  for (const { name, re } of PATTERNS) {
    out = out.replace(re, (...m: string[]) => {
      redacted[name] = (redacted[name] ?? 0) + 1;
      // Keep the key name / URL scheme for context, drop the secret itself.
      if (name === 'AWS secret key') return `${m[1]}${m[2]}[REDACTED ${name}]`;
      if (name === 'Azure storage key') return `${m[1]}[REDACTED ${name}]`;
      if (name === 'password in URL') return `${m[1]}[REDACTED]${m[2]}`;
      if (name === 'key material') return `[REDACTED ${name}]${m[0]!.endsWith('\n') ? '\n' : ''}`;
      if (name === 'Azure SAS signature') return `${m[1]}[REDACTED ${name}]`;
      if (name === 'credential assignment') return `${m[1]}${m[2]}[REDACTED ${name}]${m[2]}`;
      return `[REDACTED ${name}]`;
    });
  }
  return { text: out, redacted };
}

const ORPHAN_END = /-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g;
const KEY_LINE = /^[ \t]*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+: .*)[ \t]*\r?$/;

/**
 * The tail of a key block whose BEGIN line fell into the previous chunk (chunks split long files):
 * the base64 lines (and PEM headers) right above an END line with no BEGIN before it. Linear time:
 * walks back line by line from each END marker.
 */
function redactOrphanKeyTails(text: string, redacted: Record<string, number>): string {
  if (!text.includes('-----END ')) return text;
  let out = '';
  let last = 0;
  let checked = 0;
  for (const m of text.matchAll(ORPHAN_END)) {
    const end = m.index + m[0].length;
    const paired = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY/.test(text.slice(checked, m.index));
    checked = end;
    if (paired) continue; // the main pattern handles a complete block
    // Walk back over key-looking lines.
    let start = text.lastIndexOf('\n', m.index - 1) + 1;
    const endLineStart = start;
    while (start > last) {
      const prevStart = text.lastIndexOf('\n', start - 2) + 1;
      if (prevStart < last || !KEY_LINE.test(text.slice(prevStart, start - 1))) break;
      start = prevStart;
    }
    if (start === endLineStart && !/^[ \t]*$/.test(text.slice(endLineStart, m.index))) start = m.index;
    out += `${text.slice(last, start)}[REDACTED private key]`;
    redacted['private key'] = (redacted['private key'] ?? 0) + 1;
    last = end;
  }
  return out + text.slice(last);
}
