/** The raw values Kiln's command line yields for some arguments, as the executor receives them (flag tests). */
import { buildProgram, normaliseBooleanFlags, type Action } from '../../src/cli/program.js';

export async function rawFlags(args: string[]): Promise<Record<string, unknown>> {
  let action: Action | undefined;
  const program = buildProgram((a) => (action = a), { out: () => {}, err: () => {} });
  await program.parseAsync(normaliseBooleanFlags(args), { from: 'user' });
  if (action?.kind !== 'build') throw new Error('no build action');
  return action.raw;
}
