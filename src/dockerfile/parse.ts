/**
 * Dockerfile text → {@link ParsedDockerfile}: the parser's entry point and the only importer of
 * dockerfile-ast (ARCHITECTURE.md §3). dockerfile-ast, an editor-oriented parser, is asked where
 * each instruction begins and ends, its keyword and its column; outline.ts takes these answers
 * wherever they agree with Docker's line rules. Kiln reads the rest itself only where dockerfile-ast
 * answers differently from Docker, in these cases (dockerfile-ast.test.ts shows Kiln giving
 * Docker's answer in each; dockerfile-ast-answers.test.ts pins dockerfile-ast's own answer, so an
 * upgrade that fixes one shows which Kiln code may give way):
 * - parser directives: Docker stops at the first line that is not a known directive; dockerfile-ast
 *   keeps reading after an unknown one (and may then pick up an `escape` Docker ignores). Kiln reads
 *   the directives (directives.ts) and shows dockerfile-ast only the escape character in force;
 * - text: dockerfile-ast keeps comment lines inside continuations in its argument text; the text
 *   Kiln uses is its own join of the source lines (logical-line.ts);
 * - boundaries: an escaped escape at a line end continues the instruction in dockerfile-ast, a
 *   `3<<EOF` heredoc opens nothing, `<<` inside an exec-form array and a partly quoted delimiter
 *   (`<<E"O"F`) swallow what follows; Kiln finds Docker's boundaries and heredoc bodies itself
 *   (extent.ts, heredoc.ts) and asks dockerfile-ast again from the next instruction (outline.ts);
 * - heredocs: dockerfile-ast names a heredoc without its quotes or `-`, so whether its body is
 *   expanded (an unquoted delimiter) and whether tabs are stripped (`<<-`) is not in its answer;
 *   Kiln reads the opener (heredoc.ts);
 * - lines: a lone `\r` inside a line starts a new line in dockerfile-ast, not in Docker (proposer);
 * - keyword: Docker trims Unicode whitespace before the keyword, dockerfile-ast only spaces and
 *   tabs (a no-break space or a vertical tab becomes part of its keyword): Kiln's first word wins;
 * - flags: dockerfile-ast keeps the quotes of flag values, ends a value at a quoted or escaped
 *   space and reads on past a bare `--`; Kiln reads flag words with Docker's rules (flags.ts).
 */
import { DockerfileParser } from 'dockerfile-ast';
import type { ParsedDockerfile } from './instructions.js';
import { buildInstruction } from './build.js';
import { DirectiveError, DirectiveParser } from './directives.js';
import { fail } from './located.js';
import { outlineInstructions, type Proposal, type Propose } from './outline.js';
import { SourceText } from './source-text.js';
import { StageGrouper } from './stages.js';

/**
 * Parses a Dockerfile; `file` names it in locations. Arguments stay unexpanded. Throws
 * {@link DockerfileError} (exit 3) with the line, the source text and a suggestion where one helps.
 */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const src = new SourceText(text, file);
  const { directives, escape } = readDirectives(src);
  const stages = new StageGrouper();
  for (const source of outlineInstructions(src, escape, proposer(src, escape))) {
    stages.add(buildInstruction(source, escape), { at: source.at, source: source.source });
  }
  return stages.finish({ directives, escape }, file);
}

/** The directive section at the top of the file and the escape character it sets. */
function readDirectives(src: SourceText): Pick<ParsedDockerfile, 'directives' | 'escape'> {
  const parser = new DirectiveParser();
  const directives: Record<string, string> = {};
  let escape: '\\' | '`' = '\\';
  for (let i = 0; i < src.count; i++) {
    let directive;
    try {
      directive = parser.parseLine(src.line(i));
    } catch (err) {
      if (err instanceof DirectiveError) fail(src.where(i), err.message);
      throw err;
    }
    if (directive === undefined) break;
    directives[directive.name] = directive.value;
    if (directive.name !== 'escape') continue;
    if (directive.value !== '\\' && directive.value !== '`') {
      fail(
        src.where(i),
        `invalid escape token '${directive.value}' does not match \` or \\`,
        'use # escape=\\ (the default) or # escape=`',
      );
    }
    escape = directive.value;
  }
  return { directives, escape };
}

/**
 * Asks dockerfile-ast about a range of lines, which always starts at an instruction (outline.ts).
 * A first line sets the escape character Kiln read from the directives, so dockerfile-ast never
 * sees the file's own directive section. A lone `\r` inside a line becomes a space: dockerfile-ast
 * would start a new line there, Docker does not. Lines and columns keep their positions.
 */
function proposer(src: SourceText, escape: string): Propose {
  return (from, to) => {
    const lines = [`#escape=${escape}`, ...src.lines.slice(from, to + 1).map((l) => l.replace(/\r/g, ' '))];
    const offset = from - 1; // dockerfile-ast's line 1 is `from`
    return DockerfileParser.parse(lines.join('\n'))
      .getInstructions()
      .map((ins): Proposal => {
        const range = ins.getRange();
        return {
          line: range.start.line + offset,
          column: range.start.character + 1,
          keyword: ins.getInstruction(),
          endLine: range.end.line + offset,
        };
      });
  };
}
