/**
 * Typed instructions → global ARGs and build stages (Dockerfile reference, "FROM" and
 * "Understand how ARG and FROM interact"): only ARG may come before the first FROM; every FROM
 * starts a stage; stage names (already lower-cased) must be unique; a Dockerfile needs at least
 * one FROM. Instructions are added in file order, so the first problem in the file is the one
 * reported.
 */
import type { ArgInstruction, Instruction, ParsedDockerfile, Stage } from './instructions.js';
import { fail, type Where } from './located.js';

/** Collects one file's instructions into global ARGs and stages. */
export class StageGrouper {
  private readonly globalArgs: ArgInstruction[] = [];
  private readonly stages: Stage[] = [];
  private readonly stageLines = new Map<string, number>();
  private last: Where | undefined;

  /** Adds the next instruction; `where` locates errors about it. */
  add(ins: Instruction, where: Where): void {
    this.last = where;
    const current = this.stages[this.stages.length - 1];
    if (ins.kind === 'FROM') {
      if (ins.stageName !== undefined) {
        const earlier = this.stageLines.get(ins.stageName);
        if (earlier !== undefined)
          fail(
            where,
            `duplicate stage name ${JSON.stringify(ins.stageName)}`,
            `the name is already used by the stage on line ${earlier}`,
          );
        this.stageLines.set(ins.stageName, ins.at.line);
      }
      this.stages.push({ index: this.stages.length, from: ins, instructions: [] });
    } else if (current !== undefined) {
      current.instructions.push(ins);
    } else if (ins.kind === 'ARG') {
      this.globalArgs.push(ins);
    } else {
      fail(
        where,
        `${ins.kind} before the first FROM`,
        'only ARG may come before the first FROM; start a build stage with FROM <image>',
      );
    }
  }

  /** The parsed file; `file` locates the error of a file without instructions. */
  finish(header: Pick<ParsedDockerfile, 'directives' | 'escape'>, file: string): ParsedDockerfile {
    if (this.stages.length === 0) {
      fail(
        this.last ?? { at: { file, line: 1, column: 1 }, source: '' },
        this.last === undefined ? 'file with no instructions' : 'no FROM instruction',
        'a Dockerfile needs at least one FROM <image> to start a build stage',
      );
    }
    return { ...header, globalArgs: this.globalArgs, stages: this.stages };
  }
}
