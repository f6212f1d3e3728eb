/**
 * The typed Instruction union that `parse.ts` produces from `dockerfile-ast`'s tree. Every
 * instruction carries its source location; arguments are kept UNEXPANDED (raw words), because
 * which variables are in scope is only known while walking a stage (ARG/ENV order matters).
 * The stage builder expands them with `shell-lex.ts`.
 */
import type { SourceLocation } from '../errors.js';

/*
 * Flags (`--name=value`) are checked against the instruction's allowed set (flags.ts) and become
 * typed fields of the instruction they belong to, as in BuildKit's `CopyCommand{From, Chown,
 * Chmod, Link, …}`. String values are UNEXPANDED (quotes removed as Docker's flag splitter does;
 * `$VAR` kept) and absent when the flag is not given. A boolean flag is true when given as
 * `--link` or `--link=true` and false when absent or `--link=false` (the default for every
 * boolean flag but ADD `--unpack`, see {@link CopyInstruction.unpack}). A repeatable flag
 * (`--mount`, `--exclude`) is the list of its values in order.
 */

interface Base {
  /** Location of the keyword; `line` is the first line of the instruction. */
  at: SourceLocation;
  /**
   * The instruction's text as Docker records it (BuildKit `Node.Original`, trimmed): continuation
   * escapes and newlines removed and the lines concatenated as written — no space is inserted, a
   * continuation line keeps its leading whitespace — comment and blank lines inside the
   * continuation dropped, heredoc bodies not included. Kaniko uses this for history `created_by`.
   */
  text: string;
}

/**
 * Shell form keeps the command line as one string, exactly what Docker passes to `/bin/sh -c`
 * (unexpanded: the shell expands it); exec form (JSON array) keeps the decoded argv. Text that
 * starts with `[` but is not valid JSON is shell form, as in Docker. `CMD`/`ENTRYPOINT` with no
 * argument at all is the shell form with an empty command (Docker then records `[sh, -c, ""]`).
 */
export type CommandForm = { form: 'shell'; command: string } | { form: 'exec'; argv: string[] };

/**
 * A heredoc attached to an instruction: `<<EOF` … `EOF`. `expand` is false when any part of the
 * delimiter was quoted (`<<"EOF"`, `<<'EOF'`): the body is then literal; otherwise the body's
 * `$VAR`s are expanded like a word. `content` is the body with every line's newline kept and,
 * for `<<-` (`chomp`), leading tabs already stripped. For COPY/ADD `name` is the file name.
 */
export interface Heredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
}

/** FROM image [AS name]: `image` unexpanded (global ARGs apply); `stageName` lower-cased as Docker does. */
export interface FromInstruction extends Base {
  kind: 'FROM';
  image: string;
  stageName?: string;
  /** `--platform=…`, unexpanded (global ARGs and the automatic platform ARGs apply). */
  platform?: string;
}
/**
 * RUN. With heredocs the shell-form `command` still contains the `<<EOF` words (BuildKit runs a
 * lone `<<EOF` as the script itself, otherwise appends each body and delimiter to the command).
 */
export interface RunInstruction extends Base {
  kind: 'RUN';
  command: CommandForm;
  heredocs: Heredoc[];
  /** Every `--mount=…` value in order, unexpanded (the flag may repeat). */
  mounts: string[];
  /** `--network=…` (`default`, `none` or `host`), unexpanded; absent means `default`. */
  network?: string;
  /** `--security=…` (`sandbox` or `insecure`), unexpanded; absent means `sandbox`. */
  security?: string;
}
export interface CmdInstruction extends Base {
  kind: 'CMD';
  command: CommandForm;
}
export interface EntrypointInstruction extends Base {
  kind: 'ENTRYPOINT';
  command: CommandForm;
}
/**
 * COPY and ADD: sources and destination as raw words (the last word is the destination). Shell
 * form splits on whitespace only, as Docker does (quotes are removed later by expansion, so a
 * path with spaces needs the JSON form). Heredoc sources (`COPY <<EOF /dest`) are not in
 * `sources`; they are in `heredocs`, each creating a file named after its delimiter.
 */
export interface CopyInstruction extends Base {
  kind: 'COPY' | 'ADD';
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
  /** COPY `--from=…`: a stage name or index, or an image reference; unexpanded. */
  from?: string;
  /** `--chown=user[:group]`, unexpanded. */
  chown?: string;
  /** `--chmod=…` (octal or symbolic), unexpanded. */
  chmod?: string;
  /** `--link`. */
  link: boolean;
  /** COPY `--parents`: keep the source's parent directories under the destination. */
  parents: boolean;
  /** Every `--exclude=…` pattern in order, unexpanded (the flag may repeat). */
  excludes: string[];
  /** ADD `--checksum=…`: the digest of a URL source or the commit of a git source; unexpanded. */
  checksum?: string;
  /** ADD `--keep-git-dir`: keep `.git` in a git source's checkout. */
  keepGitDir: boolean;
  /** ADD `--unpack` when given: true/false; undefined means Docker's default (unpack local archives only). */
  unpack?: boolean;
}
/**
 * A pair of ENV or LABEL. Both are RAW words — quotes and escapes as written — because Docker
 * strips them during expansion: `ENV A="x y"` has value `"x y"`, and `expandWord` gives `x y`.
 * The legacy form `ENV K some value` has value `some value` (the raw rest of the line).
 */
export interface KeyValue {
  key: string;
  value: string;
}
export interface EnvInstruction extends Base {
  kind: 'ENV';
  pairs: KeyValue[];
}
export interface LabelInstruction extends Base {
  kind: 'LABEL';
  pairs: KeyValue[];
}
/** ARG NAME or ARG NAME=default; several may be declared in one instruction. `defaultValue` is raw like ENV values. */
export interface ArgInstruction extends Base {
  kind: 'ARG';
  args: { name: string; defaultValue?: string }[];
}
export interface WorkdirInstruction extends Base {
  kind: 'WORKDIR';
  path: string;
}
export interface UserInstruction extends Base {
  kind: 'USER';
  user: string;
}
export interface ExposeInstruction extends Base {
  kind: 'EXPOSE';
  ports: string[];
}
export interface VolumeInstruction extends Base {
  kind: 'VOLUME';
  paths: string[];
}
export interface StopSignalInstruction extends Base {
  kind: 'STOPSIGNAL';
  signal: string;
}
export interface ShellInstruction extends Base {
  kind: 'SHELL';
  argv: string[];
}
export interface MaintainerInstruction extends Base {
  kind: 'MAINTAINER';
  name: string;
}
/**
 * ONBUILD: `trigger` is the instruction text stored in the image config (`OnBuild`), as Docker
 * stores it: the line without `ONBUILD `, followed by each heredoc's raw body and delimiter. The
 * trigger is parsed (and rejected if invalid) at parse time.
 */
export interface OnbuildInstruction extends Base {
  kind: 'ONBUILD';
  trigger: string;
}
/**
 * HEALTHCHECK timing, validated at parse time as Docker does. Durations are in nanoseconds (the
 * image config's unit), 0 when not given (the runtime default); `retries` 0 when not given.
 */
export interface HealthcheckOptions {
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}
/** HEALTHCHECK NONE (`none`, no command) or HEALTHCHECK [options] CMD command. */
export interface HealthcheckInstruction extends Base {
  kind: 'HEALTHCHECK';
  none: boolean;
  command?: CommandForm;
  options?: HealthcheckOptions;
}

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

/**
 * An instruction inside a stage: anything but FROM, which starts the next stage instead
 * (`stages.ts`). Stage builders switch over it without a FROM case.
 */
export type StageInstruction = Exclude<Instruction, FromInstruction>;

/** A parsed Dockerfile: the global ARGs before the first FROM, then the stages in order. */
export interface ParsedDockerfile {
  /** Parser directives (`# syntax=`, `# escape=`, `# check=`), lower-cased names. */
  directives: Record<string, string>;
  /** The escape character in force (`# escape=`), to pass to `expandWord`/`expandWords`. */
  escape: '\\' | '`';
  /** ARG instructions before the first FROM. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
}

export interface Stage {
  /** 0-based position in the Dockerfile. */
  index: number;
  from: FromInstruction;
  /** Instructions after FROM, in order. */
  instructions: StageInstruction[];
}
