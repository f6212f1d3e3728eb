/**
 * "Did you mean …?" suggestions for unknown instructions and flags, as Docker offers them: the
 * closest candidate by Levenshtein distance, only when fewer than 3 edits away and never for an
 * exact match. When matching case-insensitively the suggestion is written in the user's case
 * (RUNN → RUN, runn → run).
 */

/** Levenshtein edit distance (insertions, deletions, substitutions each cost 1). */
export function editDistance(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

/** The candidate closest to `value`, or undefined when none is close enough (distance < 3). */
export function suggest(value: string, candidates: readonly string[], caseSensitive: boolean): string | undefined {
  const wanted = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const c = caseSensitive ? candidate : candidate.toLowerCase();
    if (c === wanted) return undefined;
    const d = editDistance(wanted, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = caseSensitive ? candidate : matchCase(c, value);
    }
  }
  return best;
}

function matchCase(candidate: string, original: string): string {
  if (original === original.toLowerCase()) return candidate.toLowerCase();
  if (original === original.toUpperCase()) return candidate.toUpperCase();
  return candidate;
}
