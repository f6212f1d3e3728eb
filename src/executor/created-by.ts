/**
 * History `created_by`, in the shapes BuildKit writes (dockerfile2llb `commitToHistory` callers):
 * `RUN /bin/sh -c make # buildkit`, `COPY src /dst # buildkit`, `ENV K=v`, `CMD ["a" "b"]`,
 * `EXPOSE [80/tcp]`, `VOLUME [/data]`, `SHELL [/bin/sh -c]`, `HEALTHCHECK {Test:[…] …}`, …
 *
 * One deliberate difference: BuildKit writes build-arg VALUES into history — `RUN |2 A=1 B=2 …`,
 * `ARG A=<value given>`, and ENV/LABEL/USER/WORKDIR after expansion. Kiln never does: build args
 * carry tokens and passwords as often as versions, and an image's history is public. So RUN has
 * no `|N K=V` prefix, ARG shows the Dockerfile's default, and words with variables keep the
 * `$VAR` reference as written (quotes removed). Also, BuildKit writes no entry for ONBUILD; Kiln
 * writes `ONBUILD <trigger>` (ARCHITECTURE.md §5: one entry per instruction).
 */
import { healthcheckConfig, healthcheckHistory } from '../commands/healthcheck.js';
import { runCommand } from '../commands/run-command.js';
import type { StageState } from '../commands/step.js';
import { lex, ShellExpansionError } from '../dockerfile/shell-lex.js';
import type { StageInstruction } from '../dockerfile/instructions.js';

/** Go's `%q` of a string (strconv.Quote), for `CMD %q` and `ENTRYPOINT %q`. */
export function goQuote(s: string): string {
  const named: Record<string, string> = {
    '"': '\\"',
    '\\': '\\\\',
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
  };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    out += named[ch] ?? (code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch);
  }
  return `${out}"`;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`;
}

/** A word with quotes and escapes removed but every variable reference left as written. */
function literal(word: string, state: StageState): string {
  try {
    return lex(word, {}, { escape: state.escape, skipUnsetEnv: true }).result;
  } catch (err) {
    // A word the lexer refuses is written as it is; a bug is not hidden behind that fallback.
    if (!(err instanceof ShellExpansionError)) throw err;
    return word;
  }
}

function words(list: readonly string[], state: StageState): string[] {
  return list.flatMap((w) => {
    try {
      return lex(w, {}, { escape: state.escape, skipUnsetEnv: true }).words;
    } catch (err) {
      if (!(err instanceof ShellExpansionError)) throw err;
      return [w];
    }
  });
}

const PORT = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i;

/** EXPOSE's ports as BuildKit lists them (`80/tcp`, ranges spelled out); a port with a variable as written. */
function ports(list: readonly string[], state: StageState): string[] {
  return words(list, state).flatMap((w) => {
    const m = PORT.exec(w);
    if (!m) return [w];
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    return hi - lo > 1000 ? [w] : Array.from({ length: hi - lo + 1 }, (_, i) => `${lo + i}/${proto}`);
  });
}

/** The history text of `ins`, from the stage state before (`before`) and after (`after`) it ran. */
export function createdBy(ins: StageInstruction, before: StageState, after: StageState): string {
  switch (ins.kind) {
    case 'RUN':
      return `RUN ${runCommand(ins, before).argv.join(' ')} # buildkit`;
    case 'COPY':
    case 'ADD': {
      const flags = [
        ...(ins.parents ? ['--parents'] : []),
        ...(ins.chown !== undefined ? [`--chown=${literal(ins.chown, before)}`] : []),
        ...(ins.chmod !== undefined ? [`--chmod=${literal(ins.chmod, before)}`] : []),
      ];
      const sources = ins.sources.map((s) => literal(s, before));
      const docs = ins.heredocs.map((h) => `<<${h.name}`);
      return [ins.kind, ...flags, ...sources, ...docs, literal(ins.dest, before)].join(' ') + ' # buildkit';
    }
    case 'ENV':
    case 'LABEL':
      return [ins.kind, ...ins.pairs.map((p) => `${literal(p.key, before)}=${literal(p.value, before)}`)].join(' ');
    case 'ARG':
      return `ARG ${ins.args.map((a) => (a.defaultValue === undefined ? a.name : `${a.name}=${literal(a.defaultValue, before)}`)).join(' ')}`;
    case 'WORKDIR':
      return `WORKDIR ${ins.path.includes('$') ? literal(ins.path, before) : (after.config.WorkingDir ?? ins.path)}`;
    case 'USER':
      return `USER ${literal(ins.user, before)}`;
    case 'STOPSIGNAL':
      return `STOPSIGNAL ${literal(ins.signal, before)}`;
    case 'EXPOSE':
      return `EXPOSE [${ports(ins.ports, before).join(' ')}]`;
    case 'VOLUME':
      return `VOLUME [${words(ins.paths, before).join(' ')}]`;
    case 'CMD':
      return `CMD ${goQuoteList(after.config.Cmd)}`;
    case 'ENTRYPOINT':
      return `ENTRYPOINT ${goQuoteList(after.config.Entrypoint)}`;
    case 'SHELL':
      return `SHELL [${ins.argv.join(' ')}]`;
    case 'MAINTAINER':
      return `MAINTAINER ${ins.name}`;
    case 'HEALTHCHECK':
      return healthcheckHistory(healthcheckConfig(ins));
    case 'ONBUILD':
      return `ONBUILD ${ins.trigger}`;
  }
}
