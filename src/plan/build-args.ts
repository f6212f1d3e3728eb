/**
 * Global ARGs (before the first FROM): their values come from `--build-arg`, else their default,
 * which may use earlier global ARGs. They are visible in FROM lines, and a stage sees one only
 * after re-declaring it (Docker's scoping rules).
 */
import { DockerfileError } from '../errors.js';
import type { ArgInstruction } from '../dockerfile/instructions.js';
import { expandWord, ShellExpansionError } from '../dockerfile/shell-lex.js';

export function globalArgValues(
  globalArgs: ArgInstruction[],
  buildArgs: ReadonlyMap<string, string>,
  escape: string,
): Map<string, string | undefined> {
  const values = new Map<string, string | undefined>();
  for (const ins of globalArgs) {
    for (const a of ins.args) {
      if (buildArgs.has(a.name)) {
        values.set(a.name, buildArgs.get(a.name));
      } else if (a.defaultValue !== undefined) {
        const scope: Record<string, string | undefined> = Object.fromEntries(values);
        try {
          values.set(a.name, expandWord(a.defaultValue, scope, escape));
        } catch (err) {
          // Only a malformed default is the Dockerfile's fault; anything else is a bug and stays one.
          if (!(err instanceof ShellExpansionError)) throw err;
          throw new DockerfileError(`ARG ${a.name}: ${err.message}`, ins.at, { source: ins.text });
        }
      } else {
        values.set(a.name, undefined);
      }
    }
  }
  return values;
}
