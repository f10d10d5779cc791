export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * Makes text from files, LLMs and servers safe to print on a terminal: control characters that
 * could drive it (ESC sequences that recolour, retitle, clear the screen, write the clipboard or
 * forge hyperlinks; CR and backspace that overwrite what was printed; C1 controls such as CSI)
 * become visible Unicode control pictures. Tab and newline stay; CRLF becomes LF.
 */
export function termSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

/** Human (non-JSON) output: sanitised with `termSafe`. */
export const humanOut = (text: string): boolean => process.stdout.write(termSafe(text));
export const humanErr = (text: string): boolean => process.stderr.write(termSafe(text));
