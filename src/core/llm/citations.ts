export interface Citation {
  n: number;
  /** True when [n] names a source that was given to the model. */
  verified: boolean;
  /** How many times it is cited. */
  count: number;
}

/**
 * Finds citations like [1], [2, 3], [1][4] or [1-3] in an answer. Inside code blocks and inline
 * code, brackets are array indexing, not citations, so those parts are ignored.
 */
export function parseCitations(answer: string, sourceCount: number): Citation[] {
  const prose = answer.replace(/```[\s\S]*?(```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const counts = new Map<number, number>();
  for (const m of prose.matchAll(/\[(\d+(?:\s*(?:,|-|–)\s*\d+)*)\](?!\()/g)) {
    for (const part of m[1]!.split(',')) {
      const range = part.split(/-|–/).map((x) => Number.parseInt(x.trim(), 10));
      const [a, b] = range.length === 2 ? range : [range[0]!, range[0]!];
      if (!Number.isFinite(a) || !Number.isFinite(b) || b! < a! || b! - a! > 50) continue;
      for (let n = a!; n <= b!; n++) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([n, count]) => ({ n, count, verified: n >= 1 && n <= sourceCount }));
}
