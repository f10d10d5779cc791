/**
 * Redacts secrets inside otherwise indexed files before anything is sent to an LLM: private-key
 * blocks and well-known credential shapes (cloud keys, tokens). Secret *files* are never indexed
 * at all (see discovery); this catches keys pasted into ordinary source files.
 */
const PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'private key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g },
  { name: 'AWS access key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b/g },
  { name: 'AWS secret key', re: /(aws_secret_access_key|aws_secret_key|secretAccessKey)(["'\s:=]+)[A-Za-z0-9/+=]{40}/gi },
  { name: 'GitHub token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { name: 'Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { name: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { name: 'Stripe key', re: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g },
  { name: 'OpenAI key', re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b/g },
  { name: 'Anthropic key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g },
  { name: 'JWT', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g },
  { name: 'Azure storage key', re: /(AccountKey=)[A-Za-z0-9+/=]{60,}/g },
  { name: 'password in URL', re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]{3,}(@)/gi },
];

export interface RedactionResult {
  text: string;
  /** How many secrets of each kind were replaced. */
  redacted: Record<string, number>;
}

export function redactSecretsInText(text: string): RedactionResult {
  const redacted: Record<string, number> = {};
  let out = text;
  for (const { name, re } of PATTERNS) {
    out = out.replace(re, (...m: string[]) => {
      redacted[name] = (redacted[name] ?? 0) + 1;
      // Keep the key name / URL scheme for context, drop the secret itself.
      if (name === 'AWS secret key') return `${m[1]}${m[2]}[REDACTED ${name}]`;
      if (name === 'Azure storage key') return `${m[1]}[REDACTED ${name}]`;
      if (name === 'password in URL') return `${m[1]}[REDACTED]${m[2]}`;
      return `[REDACTED ${name}]`;
    });
  }
  return { text: out, redacted };
}
