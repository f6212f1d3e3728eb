/** The raw values Kiln's command line yields for some arguments, as the executor receives them (flag tests). */
import { parseCommandLine } from '../../src/cli/program.js';

export async function rawFlags(args: string[]): Promise<Record<string, unknown>> {
  const action = await parseCommandLine(args, { out: () => {}, err: () => {} });
  if (action?.kind !== 'build') throw new Error('no build action');
  return action.raw;
}
