/**
 * Heredoc sources of COPY and ADD (`COPY <<EOF /dest`, Dockerfile reference "Here-Documents"):
 * each creates a file named after its delimiter, mode 0644 (BuildKit `llb.Mkfile(name, 0644, …)`)
 * before `--chmod`, owned by root unless `--chown`. The body's variables are expanded unless the
 * delimiter was quoted, the way BuildKit does it (`ExpandRaw`: its shell lexer with
 * `SkipProcessQuotes`): `$VAR` and `${VAR…}` are replaced and the escape character `\` still
 * escapes, but quotes are plain characters of the file.
 */
import { Readable } from 'node:stream';
import { DockerfileError } from '../errors.js';
import type { CopyInstruction, Heredoc } from '../dockerfile/instructions.js';
import { lex, ShellExpansionError } from '../dockerfile/shell-lex.js';
import { expansionEnv, type StageState } from './step.js';

/** Escapes every quote the lexer would otherwise treat as quoting; escapes already there are kept as pairs. */
function quotesAsText(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '\\') {
      out += c + (body[i + 1] ?? '');
      i++;
    } else if (c === '"' || c === "'") out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** The file content of a heredoc source in the stage's scope. */
export function heredocContent(ins: CopyInstruction, state: StageState, doc: Heredoc): string {
  if (!doc.expand) return doc.content;
  try {
    return lex(quotesAsText(doc.content), expansionEnv(state), { escape: '\\' }).result;
  } catch (err) {
    // Only a malformed body is the Dockerfile's fault; anything else is a bug and stays one.
    if (!(err instanceof ShellExpansionError)) throw err;
    throw new DockerfileError(`${ins.kind} <<${doc.name}: ${err.message}`, ins.at, { cause: err, source: ins.text });
  }
}

/** The content as a stream for the rootfs writer. */
export function heredocStream(content: string): Readable {
  return Readable.from([Buffer.from(content, 'utf8')]);
}

/** Mode of a heredoc file before `--chmod`. */
export const HEREDOC_MODE = 0o644;
