/**
 * Dockerfile text → {@link ParsedDockerfile}: the only entry point of the parser. The scanner
 * (lines.ts) reproduces Docker's line rules, build.ts types each instruction, and this file
 * groups them into global ARGs and stages, as BuildKit's `instructions.Parse` does.
 *
 * Why not dockerfile-ast: it is an editor-oriented parser whose text rules differ from Docker's
 * where it matters for a builder — it keeps comment lines inside continuations in argument text,
 * does not strip quotes from flag values, misses `3<<EOF` heredocs, and keeps scanning for
 * directives after an unknown one. A builder must send `/bin/sh -c` exactly what Docker sends,
 * so Kiln ports BuildKit's parser instead (see the file headers for the Go function each follows).
 */
import type { ArgInstruction, ParsedDockerfile, Stage } from './instructions.js';
import { buildInstruction } from './build.js';
import { scanDockerfile } from './lines.js';
import { fail } from './located.js';

/**
 * Parses a Dockerfile. Arguments stay unexpanded. Throws {@link DockerfileError} (exit 3) with the
 * line, the source text and a suggestion where one helps.
 */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const scanned = scanDockerfile(text, file);
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const stageLines = new Map<string, number>();

  for (const line of scanned.lines) {
    const ins = buildInstruction(line, scanned.escape);
    const where = { at: line.at, source: line.source };
    if (ins.kind === 'FROM') {
      if (ins.stageName !== undefined) {
        const earlier = stageLines.get(ins.stageName);
        if (earlier !== undefined) fail(where, `duplicate stage name ${JSON.stringify(ins.stageName)}`, `the name is already used by the stage on line ${earlier}`);
        stageLines.set(ins.stageName, line.at.line);
      }
      stages.push({ index: stages.length, from: ins, instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current !== undefined) {
      current.instructions.push(ins);
    } else if (ins.kind === 'ARG') {
      globalArgs.push(ins);
    } else {
      fail(where, `${ins.kind} before the first FROM`, 'only ARG may come before the first FROM; start a build stage with FROM <image>');
    }
  }

  if (stages.length === 0) {
    const last = scanned.lines[scanned.lines.length - 1];
    const at = last?.at ?? { file, line: 1, column: 1 };
    fail(
      { at, source: last?.source ?? '' },
      scanned.lines.length === 0 ? 'file with no instructions' : 'no FROM instruction',
      'a Dockerfile needs at least one FROM <image> to start a build stage',
    );
  }
  return { directives: scanned.directives, escape: scanned.escape, globalArgs, stages };
}
