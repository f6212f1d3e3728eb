import { expect, test } from 'vitest';
import type { StageState } from '../commands/step.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { createdBy, goQuote } from './created-by.js';

const before: StageState = {
  config: { WorkingDir: '/srv' },
  args: new Map([['VERSION', 'secret-ish']]),
  escape: '\\',
  cmdSet: false,
};

/** created_by of the one instruction in `text`, with `after` as the state it produced. */
function historyOf(text: string, after: Partial<StageState['config']> = {}): string {
  const ins = parseDockerfile(`FROM scratch\n${text}`).stages[0]?.instructions[0];
  if (!ins) throw new Error(`no instruction in ${text}`);
  return createdBy(ins, before, { ...before, config: { ...before.config, ...after } });
}

test.each([
  ['RUN make all', 'RUN /bin/sh -c make all # buildkit'],
  ['RUN ["make", "all"]', 'RUN make all # buildkit'],
  ['RUN --mount=type=cache,target=/c make', 'RUN /bin/sh -c make # buildkit'],
  ['RUN <<EOF\necho hi\nEOF', 'RUN /bin/sh -c echo hi\n # buildkit'],
  // Build args: no `|1 VERSION=…` prefix, unlike BuildKit.
  ['RUN echo $VERSION', 'RUN /bin/sh -c echo $VERSION # buildkit'],
  ['COPY --chown=app:app --chmod=644 a b /dst/', 'COPY --chown=app:app --chmod=644 a b /dst/ # buildkit'],
  ['COPY --from=builder /out /out', 'COPY /out /out # buildkit'],
  ['COPY --parents x/./y /z', 'COPY --parents x/./y /z # buildkit'],
  ['ENV A=1 B="two words"', 'ENV A=1 B=two words'],
  ['ENV LEGACY some value', 'ENV LEGACY=some value'],
  ['ENV V=$VERSION', 'ENV V=$VERSION'],
  ['LABEL "k k"=v version=${VERSION}', 'LABEL k k=v version=${VERSION}'],
  ['ARG VERSION=1.0 OTHER', 'ARG VERSION=1.0 OTHER'],
  ['USER app:app', 'USER app:app'],
  ['STOPSIGNAL SIGQUIT', 'STOPSIGNAL SIGQUIT'],
  ['EXPOSE 80 53/udp 8000-8001', 'EXPOSE [80/tcp 53/udp 8000/tcp 8001/tcp]'],
  ['VOLUME ["/data", "/logs"]', 'VOLUME [/data /logs]'],
  ['VOLUME /cache', 'VOLUME [/cache]'],
  ['SHELL ["/bin/sh", "-ec"]', 'SHELL [/bin/sh -ec]'],
  ['MAINTAINER Jane <j@example.com>', 'MAINTAINER Jane <j@example.com>'],
  [
    'HEALTHCHECK --retries=2 CMD ["check"]',
    'HEALTHCHECK {Test:[CMD check] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:2}',
  ],
  ['ONBUILD RUN make', 'ONBUILD RUN make'],
])('%s → %s', (text, expected) => {
  expect(historyOf(text)).toBe(expected);
});

test('CMD, ENTRYPOINT and WORKDIR show the values they set', () => {
  expect(historyOf('CMD echo "hi"', { Cmd: ['/bin/sh', '-c', 'echo "hi"'] })).toBe(
    'CMD ["/bin/sh" "-c" "echo \\"hi\\""]',
  );
  expect(historyOf('ENTRYPOINT ["a"]', { Entrypoint: ['a'] })).toBe('ENTRYPOINT ["a"]');
  expect(historyOf('WORKDIR sub', { WorkingDir: '/srv/sub' })).toBe('WORKDIR /srv/sub');
  expect(historyOf('WORKDIR $HOME', { WorkingDir: '/root' })).toBe('WORKDIR $HOME');
});

test('no build-arg value reaches the history', () => {
  for (const text of [
    'RUN echo $VERSION',
    'ENV V=$VERSION',
    'LABEL v=$VERSION',
    'USER $VERSION',
    'WORKDIR /$VERSION',
    'ARG X=$VERSION',
  ]) {
    expect(historyOf(text, { WorkingDir: '/secret-ish' })).not.toContain('secret-ish');
  }
});

test.each([
  ['plain', '"plain"'],
  ['say "hi"\\', '"say \\"hi\\"\\\\"'],
  ['tab\tnl\nbell\x07', '"tab\\tnl\\nbell\\a"'],
  ['\x01é', '"\\x01é"'],
])('goQuote(%j) = %s', (s, quoted) => {
  expect(goQuote(s)).toBe(quoted);
});
