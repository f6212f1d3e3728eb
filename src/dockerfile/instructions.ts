/**
 * The typed Instruction union that `parse.ts` produces from `dockerfile-ast`'s tree. Every
 * instruction carries its source location; arguments are kept UNEXPANDED (raw words), because
 * which variables are in scope is only known while walking a stage (ARG/ENV order matters).
 * The stage builder expands them with `shell-lex.ts`.
 */
import type { SourceLocation } from '../errors.js';

/** `--name=value` flags as written, already checked against the instruction's allowed set. */
export type Flags = Readonly<Record<string, string | true>>;

interface Base {
  /** Location of the keyword; `line` is the first line of the instruction. */
  at: SourceLocation;
  /** The instruction's text as written, continuation lines joined, for history and messages. */
  text: string;
  flags: Flags;
}

/** Shell form keeps the command line as one string; exec form (JSON array) keeps the argv. */
export type CommandForm = { form: 'shell'; command: string } | { form: 'exec'; argv: string[] };

/** A heredoc attached to an instruction: `<<EOF` … `EOF`. `expand` is false when the delimiter was quoted. */
export interface Heredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
}

export interface FromInstruction extends Base { kind: 'FROM'; image: string; stageName?: string }
export interface RunInstruction extends Base { kind: 'RUN'; command: CommandForm; heredocs: Heredoc[] }
export interface CmdInstruction extends Base { kind: 'CMD'; command: CommandForm }
export interface EntrypointInstruction extends Base { kind: 'ENTRYPOINT'; command: CommandForm }
/** COPY and ADD: sources and destination as raw words (the last word is the destination). */
export interface CopyInstruction extends Base { kind: 'COPY' | 'ADD'; sources: string[]; dest: string; heredocs: Heredoc[] }
export interface KeyValue { key: string; value: string }
export interface EnvInstruction extends Base { kind: 'ENV'; pairs: KeyValue[] }
export interface LabelInstruction extends Base { kind: 'LABEL'; pairs: KeyValue[] }
/** ARG NAME or ARG NAME=default; several may be declared in one instruction. */
export interface ArgInstruction extends Base { kind: 'ARG'; args: { name: string; defaultValue?: string }[] }
export interface WorkdirInstruction extends Base { kind: 'WORKDIR'; path: string }
export interface UserInstruction extends Base { kind: 'USER'; user: string }
export interface ExposeInstruction extends Base { kind: 'EXPOSE'; ports: string[] }
export interface VolumeInstruction extends Base { kind: 'VOLUME'; paths: string[] }
export interface StopSignalInstruction extends Base { kind: 'STOPSIGNAL'; signal: string }
export interface ShellInstruction extends Base { kind: 'SHELL'; argv: string[] }
export interface MaintainerInstruction extends Base { kind: 'MAINTAINER'; name: string }
export interface OnbuildInstruction extends Base { kind: 'ONBUILD'; trigger: string }
export interface HealthcheckInstruction extends Base { kind: 'HEALTHCHECK'; none: boolean; command?: CommandForm }

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | CopyInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | ShellInstruction
  | MaintainerInstruction
  | OnbuildInstruction
  | HealthcheckInstruction;

export type InstructionKind = Instruction['kind'];

/** A parsed Dockerfile: the global ARGs before the first FROM, then the stages in order. */
export interface ParsedDockerfile {
  /** Parser directives (`# syntax=`, `# escape=`), lower-cased names. */
  directives: Record<string, string>;
  /** ARG instructions before the first FROM. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
}

export interface Stage {
  /** 0-based position in the Dockerfile. */
  index: number;
  from: FromInstruction;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
}
