/**
 * The Kubernetes manifests under deploy/kubernetes read as data, so tests can check them and run
 * Kiln with exactly the arguments the Pod and the Job give it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/** The directory holding the manifests. */
export const K8S_DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

/** The name of Kiln's container in the Pod and the Job. */
export const KILN_CONTAINER = 'kiln';

/** The `.yaml` files of {@link K8S_DIR}, sorted. */
export async function manifestFiles(): Promise<string[]> {
  return (await readdir(K8S_DIR)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
}

/** Parses one manifest file (a name inside {@link K8S_DIR}) holding exactly one YAML document. */
export async function readManifest(file: string): Promise<unknown> {
  const path = join(K8S_DIR, file);
  const docs = parseAllDocuments(await readFile(path, 'utf8'), { prettyErrors: true });
  if (docs.length !== 1) throw new Error(`${path}: expected one YAML document, found ${docs.length}`);
  const doc = docs[0]!;
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(`${path}: ${problems.map((e) => e.message).join('; ')}`);
  return doc.toJS();
}

const ContainerArgs = z.object({ name: z.string(), args: z.array(z.string()) });
const PodArgs = z.object({
  kind: z.literal('Pod'),
  spec: z.object({ containers: z.array(ContainerArgs) }),
});
const JobArgs = z.object({
  kind: z.literal('Job'),
  spec: z.object({ template: z.object({ spec: z.object({ containers: z.array(ContainerArgs) }) }) }),
});

function kilnArgs(file: string, containers: z.infer<typeof ContainerArgs>[]): string[] {
  const found = containers.filter((c) => c.name === KILN_CONTAINER);
  if (found.length !== 1)
    throw new Error(`${file}: expected one container named ${KILN_CONTAINER}, found ${found.length}`);
  return [...found[0]!.args];
}

/** The arguments of Kiln's container in deploy/kubernetes/pod.yaml and job.yaml. */
export async function manifestArgs(): Promise<{ pod: string[]; job: string[] }> {
  const pod = PodArgs.parse(await readManifest('pod.yaml'));
  const job = JobArgs.parse(await readManifest('job.yaml'));
  return {
    pod: kilnArgs('pod.yaml', pod.spec.containers),
    job: kilnArgs('job.yaml', job.spec.template.spec.containers),
  };
}

/** `args` with the value of its single `--destination=` argument replaced by `ref`. */
export function withDestination(args: readonly string[], ref: string): string[] {
  const at = args.flatMap((a, i) => (a.startsWith('--destination=') ? [i] : []));
  if (at.length !== 1) throw new Error(`expected one --destination= argument, found ${at.length}`);
  return args.map((a, i) => (i === at[0] ? `--destination=${ref}` : a));
}
