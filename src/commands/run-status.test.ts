import { describe, expect, test } from 'vitest';
import { runFailure } from './run-status.js';

describe('runFailure', () => {
  test.each([
    [{ exitStatus: 42, signal: null }, 42, 'exited with status 42'],
    [{ exitStatus: 1, signal: null }, 1, 'exited with status 1'],
    [{ exitStatus: 255, signal: null }, 255, 'exited with status 255'],
    // A shell's 128+N, as runc exits under namespaces isolation.
    [{ exitStatus: null, signal: 'SIGKILL' }, 137, 'was killed by SIGKILL (status 137)'],
    [{ exitStatus: null, signal: 'SIGTERM' }, 143, 'was killed by SIGTERM (status 143)'],
    [{ exitStatus: null, signal: 'SIGSEGV' }, 139, 'was killed by SIGSEGV (status 139)'],
    [{ exitStatus: null, signal: null }, undefined, 'was killed by a signal'],
  ] as const)('%o exits %s: %s', (result, exitCode, said) => {
    expect(runFailure(result)).toEqual({ exitCode, said });
  });
});
