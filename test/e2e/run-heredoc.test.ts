/** RUN heredocs (a lone script, a `#!` script, bodies the shell reads) and RUN --network, end to end. */
import { expect, onTestFinished, test } from 'vitest';
import { fixture, runExecutor } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

test('heredocs run as BuildKit runs them, and --network=none leaves only loopback', async () => {
  const dest = `${env.reg.host}/e2e/run-heredoc:1`;
  const r = await runExecutor([
    '--context',
    fixture('run-heredoc'),
    '--destination',
    dest,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ registry: dest });
  onTestFinished(() => image.cleanup());
  expect(await image.readFile('/script.txt')).toBe('hello from a script\nsecond line\n');
  expect(await image.readFile('/shebang.txt')).toBe('run as /dev/pipes/SCRIPT\n');
  expect(await image.readFile('/literal.txt')).toBe('keep $GREETING as written\n');
  expect(await image.readFile('/tabs.txt')).toBe('hello without tabs\n');
  expect(await image.readFile('/net-none.txt')).toBe('lo\n');
  // The script file lived in /dev/pipes only while the step ran.
  expect(await image.exists('/dev/pipes')).toBe(false);
  const runs = (image.config.history ?? []).map((h) => h.created_by).filter((c) => c?.startsWith('RUN'));
  expect(runs).toEqual([
    'RUN /bin/sh -c echo "$GREETING from a script" > /script.txt\necho second line >> /script.txt\n # buildkit',
    'RUN /bin/sh -c /dev/pipes/SCRIPT # buildkit',
    "RUN /bin/sh -c cat <<'LITERAL' > /literal.txt && cat <<-TABS > /tabs.txt\nkeep $GREETING as written\nLITERAL\n$GREETING without tabs\nTABS # buildkit",
    "RUN /bin/sh -c tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /net-none.txt # buildkit",
    'RUN /bin/sh -c true # buildkit',
  ]);
});
