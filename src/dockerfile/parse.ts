/**
 * Dockerfile text → {@link ParsedDockerfile}: the parser's entry point and the only importer of
 * dockerfile-ast (ARCHITECTURE.md §3). dockerfile-ast, an editor-oriented parser, proposes the
 * instructions — where each begins and ends, its keyword and column — and Kiln checks each
 * proposal against Docker's line rules before using it (outline.ts). Kiln's own code handles what
 * dockerfile-ast does differently from Docker:
 * - parser directives: Docker stops at the first line that is not a known directive; dockerfile-ast
 *   keeps looking after an unknown one (and may then pick up an `escape` Docker ignores). Kiln reads
 *   the directives (directives.ts) and shows dockerfile-ast only the escape character in force;
 * - text: dockerfile-ast keeps comment lines inside continuations in its argument text; the text
 *   Kiln uses is its own join of the source lines (logical-line.ts);
 * - boundaries: escaped escapes at a line end, `3<<EOF` heredocs, `<<` inside exec-form arrays and
 *   partly quoted delimiters end instructions elsewhere in dockerfile-ast (extent.ts, heredoc.ts);
 * - flags: dockerfile-ast keeps the quotes of flag values and splits quoted values at spaces; Kiln
 *   reads flag words itself (flags.ts).
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
      fail(src.where(i), `invalid escape token '${directive.value}' does not match \` or \\`, 'use # escape=\\ (the default) or # escape=`');
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
