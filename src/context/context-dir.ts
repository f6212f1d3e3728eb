/**
 * Whether the build context directory is there. Kaniko accepts a `--context` that names nothing
 * (the Kaniko introduction's `--context=dir://workspace`, resolved against the working directory
 * /workspace, names /workspace/workspace) and the build goes on until a COPY or ADD looks in it.
 * Kiln goes on too, but says so: a warning before the build, and the context directory in the
 * error of a COPY or ADD that finds nothing there.
 */
import { stat } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

/**
 * What is wrong with the context directory `dir` (an absolute host path), in words for a
 * message — `the build context /workspace/workspace does not exist` — or undefined when it is a
 * directory. Any other failure to look (permission denied) is left to the step that reads it.
 */
export async function contextDirProblem(dir: string): Promise<string | undefined> {
  try {
    return (await stat(dir)).isDirectory() ? undefined : `the build context ${dir} is not a directory`;
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' || code === 'ENOTDIR' ? `the build context ${dir} does not exist` : undefined;
  }
}
