import { DockerfileError } from '../errors.js';
import type { ExposeInstruction } from '../dockerfile/instructions.js';
import { expandToWords } from './expand.js';
import type { StageState, StepResult } from './step.js';

const PORT = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i;

/** EXPOSE: `80`, `80/tcp`, `53/udp`, `8000-8002` become `ExposedPorts` keys (tcp by default). */
export function expose(ins: ExposeInstruction, state: StageState): StepResult {
  const ports: Record<string, Record<string, unknown>> = { ...(state.config.ExposedPorts ?? {}) };
  for (const word of ins.ports.flatMap((p) => expandToWords(ins, state, p))) {
    const m = PORT.exec(word);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || lo > 65535 || hi > 65535 || hi < lo) {
      throw new DockerfileError(
        `EXPOSE: invalid port "${word}" (expected PORT[/PROTOCOL] or a range START-END)`,
        ins.at,
        { source: ins.text },
      );
    }
    const proto = (m[3] ?? 'tcp').toLowerCase();
    for (let p = lo; p <= hi; p++) ports[`${p}/${proto}`] = {};
  }
  return { state: { ...state, config: { ...state.config, ExposedPorts: ports } }, changes: [] };
}
