/** A byte count for people: "512 B", "3.4 KB", "18 MB", "1.2 GB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * A count for people, with thousands separators: "12,345" (as `toLocaleString('en-US')` writes an
 * integer). Written out because the first `toLocaleString` / `Intl.NumberFormat` call of a process
 * loads ICU's number data: ~15 ms on the thread that asks, which for a first answer is the
 * extension host's.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const digits = Math.abs(Math.round(n)).toString();
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n <= -0.5 ? `-${out}` : out;
}
