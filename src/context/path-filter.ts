/**
 * A pattern list applied to a tree walk, for the build context (`.dockerignore`) and for
 * `COPY --exclude`. As Docker documents it, a matched file is left out and a matched directory
 * is left out with everything below it — except that a `!` exception may re-include something
 * inside an excluded directory, so such a directory is still walked, and it appears only if
 * something below it does.
 *
 * Whether an exception can reach inside a directory is decided from the directories it names
 * literally: `!docs/keep.md` reaches into `docs` but not into `src`; an exception whose path has
 * a wildcard at or above the directory's depth (`!*.go`, `!**\/keep`) is assumed to reach it.
 * Walking a directory needlessly only costs time; skipping one that holds an exception would
 * lose files.
 */
import { PatternMatcher } from './pattern.js';

/** What a walk does with one entry. */
export type FilterVerdict =
  /** Copy it (a directory: with everything below it that is not itself left out). */
  | 'include'
  /** Leave it out, and for a directory everything below it. */
  | 'exclude'
  /** A left-out directory that an exception may reach into: look inside, create it only if needed. */
  | 'descend';

/** Patterns applied to paths relative to one root (the context root, or a copied source). */
export class PathFilter {
  private readonly matcher: PatternMatcher;

  /** Compiles `patterns`; throws PatternSyntaxError for a malformed one. */
  constructor(patterns: readonly string[]) {
    this.matcher = new PatternMatcher(patterns);
  }

  /** Whether there is nothing to filter. */
  get empty(): boolean {
    return this.matcher.patterns.length === 0;
  }

  /** Whether `rel` (slash-separated, relative to the root, not empty) is left out. */
  excludes(rel: string): boolean {
    return this.matcher.matches(rel);
  }

  /**
   * Whether the filter might leave out `rel` (slash-separated, relative to the root; '' for the
   * root itself) or anything below it. A cheap, conservative test from the patterns' literal
   * leading components: false means a walk of `rel` would keep everything.
   */
  mayExcludeWithin(rel: string): boolean {
    const excluding = this.matcher.patterns.filter((p) => !p.exclusion);
    if (rel === '') return excluding.length > 0;
    return excluding.some((p) => p.covers(rel) || p.mayMatchInside(rel));
  }

  /** The verdict for `rel`, a directory when `isDir`. */
  verdict(rel: string, isDir: boolean): FilterVerdict {
    if (!this.matcher.matches(rel)) return 'include';
    if (!isDir || !this.matcher.hasExclusions) return 'exclude';
    // Only an exception matching something strictly inside `rel` can re-include it: one that
    // applies to `rel` itself or an ancestor was overridden, since `rel` is excluded.
    const reachable = this.matcher.patterns.some((p) => p.exclusion && p.mayMatchInside(rel));
    return reachable ? 'descend' : 'exclude';
  }
}

/** A filter that leaves nothing out. */
export const NO_FILTER = new PathFilter([]);
