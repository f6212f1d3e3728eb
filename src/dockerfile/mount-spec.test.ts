import { describe, expect, test } from 'vitest';
import { MountSpecError, ramInBytes, splitCsv } from './mount-fields.js';
import { finishMountSpec, parseMountSyntax, type MountSpec } from './mount-spec.js';

/** A stand-in for word expansion: `$V` → `vee`, quotes kept as the CSV reader left them. */
const expand = (w: string): string => w.replace(/\$V\b/g, 'vee');
/** Both halves of reading a mount: the plan's (syntax) and the RUN step's (expansion, WORKDIR). */
const parse = (v: string, workdir = '/work'): MountSpec => finishMountSpec(parseMountSyntax(v, '\\'), expand, workdir);

describe('splitCsv reads a record as Go encoding/csv does', () => {
  test.each([
    ['a=1,b=2', ['a=1', 'b=2']],
    ['"target=/a,b",ro', ['target=/a,b', 'ro']],
    ['"x=say ""hi"""', ['x=say "hi"']],
    ['a=1,', ['a=1', '']],
    ['', ['']],
  ])('%j → %j', (record, fields) => {
    expect(splitCsv(record)).toEqual(fields);
  });

  test.each(['a="b"', '"unterminated', '"a"b'])('%j is an error', (record) => {
    expect(() => splitCsv(record)).toThrow(MountSpecError);
  });
});

describe('parseMountSyntax then finishMountSpec', () => {
  test.each([
    ['target=/src', { type: 'bind', source: '/', target: '/src', readonly: true }],
    [
      'type=bind,source=go.mod,target=go.mod',
      { type: 'bind', source: 'go.mod', target: '/work/go.mod', readonly: true },
    ],
    [
      'type=bind,from=builder,src=/out,dst=/in,rw',
      { type: 'bind', from: 'builder', source: '/out', target: '/in', readonly: false },
    ],
    ['type=bind,target=/in,readwrite=true', { type: 'bind', source: '/', target: '/in', readonly: false }],
    ['type=bind,target=/in,rw=false', { type: 'bind', source: '/', target: '/in', readonly: true }],
    ['TYPE=Bind,Target=/$V', { type: 'bind', source: '/', target: '/vee', readonly: true }],
    [
      'type=cache,target=/root/.cache',
      {
        type: 'cache',
        id: '/root/.cache',
        target: '/root/.cache',
        readonly: false,
        sharing: 'shared',
        mode: 0o755,
        uid: 0,
        gid: 0,
      },
    ],
    [
      'type=cache,id=go,target=cache,sharing=locked,mode=0700,uid=1000,gid=1001,ro',
      {
        type: 'cache',
        id: 'go',
        target: '/work/cache',
        readonly: true,
        sharing: 'locked',
        mode: 0o700,
        uid: 1000,
        gid: 1001,
      },
    ],
    [
      'type=cache,target=/c,sharing=PRIVATE',
      { type: 'cache', id: '/c', target: '/c', readonly: false, sharing: 'private', mode: 0o755, uid: 0, gid: 0 },
    ],
    ['type=tmpfs,target=/tmp', { type: 'tmpfs', target: '/tmp' }],
    ['type=tmpfs,target=/tmp,size=64m', { type: 'tmpfs', target: '/tmp', sizeBytes: 64 * 1024 * 1024 }],
    [
      'type=secret,id=npm',
      { type: 'secret', id: 'npm', target: '/run/secrets/npm', required: false, mode: 0o400, uid: 0, gid: 0 },
    ],
    [
      'type=secret,id=npm,target=/root/.npmrc,required,mode=0440,uid=1,gid=2',
      { type: 'secret', id: 'npm', target: '/root/.npmrc', required: true, mode: 0o440, uid: 1, gid: 2 },
    ],
    [
      'type=secret,id=tok,required=false,env=TOKEN',
      { type: 'secret', id: 'tok', env: 'TOKEN', required: false, mode: 0o400, uid: 0, gid: 0 },
    ],
    [
      'type=secret,id=tok,env=TOKEN,target=/t',
      { type: 'secret', id: 'tok', target: '/t', env: 'TOKEN', required: false, mode: 0o400, uid: 0, gid: 0 },
    ],
    [
      'type=secret,source=aws',
      { type: 'secret', id: 'aws', target: '/run/secrets/aws', required: false, mode: 0o400, uid: 0, gid: 0 },
    ],
    [
      'type=secret,target=/etc/key.pem',
      { type: 'secret', id: 'key.pem', target: '/etc/key.pem', required: false, mode: 0o400, uid: 0, gid: 0 },
    ],
  ])('%s', (value, spec) => {
    expect(parse(value)).toEqual(spec);
  });

  test.each([
    ['type=volume,target=/x', /unsupported mount type "volume"/],
    ['type=bind,target=/x,colour=red', /unexpected key 'colour' in 'colour=red'/],
    ['type=bind,target=/x,nosuid', /invalid field 'nosuid' must be a key=value pair/],
    ['type=bind', /mount type bind requires a target/],
    ['type=bind,target=/', /invalid mount target "\/"/],
    ['type=bind,target=/x,mode=0700', /mode not allowed for "bind" type mounts/],
    ['type=tmpfs,target=/x,uid=1', /uid not allowed for "tmpfs" type mounts/],
    ['type=bind,target=/x,sharing=locked', /invalid cache sharing set for bind mount/],
    ['type=cache,target=/x,sharing=sometimes', /unsupported sharing value "sometimes"/],
    ['type=cache,target=/x,mode=999', /invalid value 999 for mode/],
    ['type=cache,target=/x,uid=-1', /invalid value -1 for uid/],
    ['type=cache,target=/x,from=builder', /type=cache with from= or source= is not supported/],
    ['type=tmpfs,target=/x,size=lots', /invalid value for size: lots/],
    ['type=bind,target=/x,size=1m', /unexpected key 'size' for mount type 'bind'/],
    ['type=bind,target=/x,required', /unexpected key 'required' for mount type 'bind'/],
    ['type=bind,target=/x,ro=maybe', /invalid value for ro: maybe/],
    ['type=bind,target=/x,from=$V', /'from' doesn't support variable expansion/],
    ['type=secret', /one of source, target required/],
    ['type=secret,id=a,source=b', /both source and id can't be set/],
    ['type=secret,id=a,from=x', /secret mount should not have a from/],
    ['type=secret,id=a,rw', /always read-only/],
    ['type=ssh', /SSH agent mounts are not supported/],
    ['type=bind,target=/x,env=A', /unexpected key 'env' for mount type 'bind'/],
  ])('%s is refused: %s', (value, message) => {
    expect(() => parse(value)).toThrow(message);
  });

  test('a typo in the type gets a suggestion', () => {
    try {
      parse('type=cahce,target=/x');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MountSpecError);
      expect((err as MountSpecError).hint).toBe('did you mean cache?');
    }
  });
});

test.each([
  ['1024', 1024],
  ['64k', 64 * 1024],
  ['1.5g', 1.5 * 1024 ** 3],
  ['512MiB', 512 * 1024 ** 2],
  ['10b', 10],
  ['x', undefined],
])('ramInBytes(%j) = %j', (value, bytes) => {
  expect(ramInBytes(value)).toBe(bytes);
});

describe('parseMountSyntax (the plan’s half) checks what expansion cannot change', () => {
  test.each([
    ['type=cache,target=/x,sharing=sometimes', /unsupported sharing value "sometimes"/],
    ['type=tmpfs,size=1m', /mount type tmpfs requires a target/],
    ['target=/x,colour=$V', /unexpected key 'colour' in 'colour=\$V'/],
    ['type=secret,id=a,from=b', /secret mount should not have a from/],
    ['type=bind,target=/', /invalid mount target "\/"/],
  ])('%s is refused before expansion: %s', (value, message) => {
    expect(() => parseMountSyntax(value, '\\')).toThrow(message);
  });

  test.each([
    // The type may expand to anything: what depends on it waits for the RUN step.
    'type=$V,target=/x,size=1m',
    'type=cache,target=/x,sharing=${V}',
    "type=cache,target=/x,sharing='locked'",
    // A relative target is joined to the WORKDIR, which only the RUN step knows.
    'type=bind,target=.',
  ])('%s waits for the RUN step', (value) => {
    expect(parseMountSyntax(value, '\\').text).toBe(value);
  });

  test('the escape character in force counts as something expansion changes', () => {
    expect(() => parseMountSyntax('type=cache,target=/x,sharing=lo`cked', '\\')).toThrow(/unsupported sharing/);
    expect(parseMountSyntax('type=cache,target=/x,sharing=lo`cked', '`').fields).toHaveLength(3);
  });

  test('fields keep their values as written, keys lower-cased; from= is the last one', () => {
    expect(parseMountSyntax('TYPE=Bind,from=a,Target=/$V,from=b,ro', '\\')).toEqual({
      text: 'TYPE=Bind,from=a,Target=/$V,from=b,ro',
      fields: [
        { key: 'type', value: 'Bind' },
        { key: 'from', value: 'a' },
        { key: 'target', value: '/$V' },
        { key: 'from', value: 'b' },
        { key: 'ro' },
      ],
      from: 'b',
    });
  });
});
