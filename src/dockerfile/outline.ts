/**
 * The list of instructions of a Dockerfile, with each one's location, keyword, joined text and
 * heredoc bodies. dockerfile-ast proposes the instructions (parse.ts converts its tree into
 * {@link Proposal}s); every proposal is checked against Docker's own rules (extent.ts) before it
 * is used. Where the two disagree on where an instruction ends — an escaped escape at a line end,
 * a `3<<EOF` heredoc, a `<<` inside an exec-form array, a partly quoted delimiter — Docker's rules
 * win, dockerfile-ast is asked about that instruction's own lines alone, and it parses again from
 * the next instruction on. The text is always Kiln's join of the source lines (logical-line.ts),
 * never dockerfile-ast's argument text, because that keeps comment lines.
 *
 * dockerfile-ast is asked about windows of the file rather than the whole of it, so that a file
 * with many disagreements is not parsed again from each one to its end.
 */
import type { SourceLocation } from '../errors.js';
import { splitFirstWord, trimSpace } from './chars.js';
import { extentAt, type Extent } from './extent.js';
import type { RawHeredoc } from './heredoc.js';
import type { SourceText } from './source-text.js';

/** dockerfile-ast's view of one instruction, in Kiln's terms. */
export interface Proposal {
  /** 0-based line of the keyword. */
  line: number;
  /** 1-based column of the keyword. */
  column: number;
  /** The keyword as written. */
  keyword: string;
  /** 0-based last line, heredoc bodies included. */
  endLine: number;
}

/**
 * Asks dockerfile-ast about the instructions on lines `from` to `to` (0-based, inclusive); `from`
 * is always the first line of an instruction.
 */
export type Propose = (from: number, to: number) => Proposal[];

/** One instruction as written, ready to be typed (build.ts). */
export interface SourceInstruction {
  /** Location of the keyword. */
  at: SourceLocation;
  /** The keyword as written (any case). */
  keyword: string;
  /** The joined text, starting at the keyword, without heredoc bodies. */
  text: string;
  /** The first line as written, for error messages. */
  source: string;
  heredocs: RawHeredoc[];
}

/** Lines handed to dockerfile-ast at a time. */
const WINDOW = 256;

/** The instructions of `src`, in order. Throws a DockerfileError for an unterminated heredoc. */
export function outlineInstructions(src: SourceText, escape: string, propose: Propose): SourceInstruction[] {
  const proposals = new Proposals(src, propose);
  const instructions: SourceInstruction[] = [];
  for (let line = src.nextContent(0); line !== undefined;) {
    const extent = extentAt(src, line, escape);
    // A line holding only the escape character continues into nothing: no instruction.
    if (trimSpace(extent.text) !== '') instructions.push(toInstruction(src, extent, proposals.confirm(extent)));
    line = src.nextContent(extent.end + 1);
  }
  return instructions;
}

function toInstruction(src: SourceText, extent: Extent, proposal: Proposal | undefined): SourceInstruction {
  const where = src.where(extent.start, proposal?.column);
  const keyword = proposal?.keyword ?? firstWord(extent.text);
  return { at: where.at, keyword, text: extent.text, source: where.source, heredocs: extent.heredocs };
}

function firstWord(text: string): string {
  return splitFirstWord(trimSpace(text))[0];
}

/** dockerfile-ast's proposals for the current window, consumed in order. */
class Proposals {
  private list: Proposal[] = [];
  private next = 0;

  constructor(
    private readonly src: SourceText,
    private readonly propose: Propose,
  ) {}

  /** dockerfile-ast's view of the instruction `extent` covers, once it agrees with Docker's rules. */
  confirm(extent: Extent): Proposal | undefined {
    const proposal = this.take(extent.start) ?? this.load(extent.start);
    if (proposal !== undefined && this.agrees(proposal, extent)) return proposal;
    // Disagreement: what follows was parsed from the wrong boundary, so forget it, and ask about
    // this instruction's own lines (without heredoc bodies) for its keyword and column.
    this.list = [];
    this.next = 0;
    // Its keyword is checked again for the Unicode whitespace case (see agrees).
    const alone = this.propose(extent.start, extent.logicalEnd)[0];
    return alone !== undefined && alone.line === extent.start && alone.keyword === firstWord(extent.text)
      ? alone
      : undefined;
  }

  /**
   * Whether dockerfile-ast's answer is Docker's: it ends on the same line (trailing comment and
   * blank lines aside, which either may count) and names the same keyword. The keyword differs
   * when Unicode whitespace other than space and tab precedes it, which dockerfile-ast takes as
   * part of the keyword (parse.ts, "keyword").
   */
  private agrees(proposal: Proposal, extent: Extent): boolean {
    return (
      this.src.lastContent(proposal.line, proposal.endLine) === this.src.lastContent(extent.start, extent.end) &&
      proposal.keyword === firstWord(extent.text)
    );
  }

  /** The proposal starting on `line` from the current window, skipping any before it. */
  private take(line: number): Proposal | undefined {
    while (this.next < this.list.length && (this.list[this.next]?.line ?? line) < line) this.next++;
    const proposal = this.list[this.next];
    if (proposal?.line !== line) return undefined;
    this.next++;
    return proposal;
  }

  private load(from: number): Proposal | undefined {
    this.list = this.propose(from, Math.min(from + WINDOW, this.src.count) - 1);
    this.next = 0;
    return this.take(from);
  }
}
