/**
 * The layers tier of Kaniko's flags (DESIGN.md §1): snapshots, ignored paths, compression,
 * reproducibility. Raw values come from the command line; {@link parseLayerOptions} validates them.
 */
import { z } from 'zod';

export const layerRawShape = {} satisfies z.ZodRawShape;

/** The validated raw values of this tier (fields are added with the flags). */
type LayerRaw = object;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the layers tier (issue 6)
export interface LayerOptions {}

export function parseLayerOptions(_o: LayerRaw, _env: Record<string, string | undefined>): LayerOptions {
  return {};
}
