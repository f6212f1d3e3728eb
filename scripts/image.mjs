// `npm run image [-- --destination REF]`: Kiln builds its own image from images/Dockerfile, offline.
// Stages the build context in out/image-context (the bundled CLI, this machine's Node and the
// host tools RUN uses, moved under /kaniko with patchelf), then runs bin/executor twice, for the
// `latest` and `debug` targets, into the OCI layout dist/image (tags `latest` and `debug`). With
// --destination REF the two images are also pushed: `latest` to REF, `debug` to REF's tag with
// `-debug` appended (or `:debug` when REF's tag is `latest`), and the layout's tags follow them.
// `--oci-layout-path DIR` writes the layout elsewhere, and the context is then staged beside it in
// DIR.context (the tests use this). Other flags after `--` (e.g. --insecure) go to the executor.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const INTERP = '/kaniko/lib/ld-linux-x86-64.so.2';

/** Host programs copied into /kaniko/bin (dynamically linked ones get their libraries too). */
const TOOLS = ['unshare', 'mount', 'flock', 'runc', 'zstd', 'setfattr', 'getfattr'];
/**
 * The shell the RUN runners start: dash, not busybox's sh, which prefers its own applets (its
 * unshare and mount lack the util-linux options Kiln uses) over programs on PATH.
 */
const SHELL = 'dash';
/** busybox applets the RUN runners and layer tools call by name (sed, basename, uname: git's submodule script). */
const APPLETS = ['mkdir', 'ln', 'cp', 'mknod', 'ip', 'sed', 'basename', 'uname'];
/**
 * git for git:// contexts (src/executor/context-git.ts): git in /kaniko/bin, and in its exec path
 * /kaniko/git-core (GIT_EXEC_PATH) the programs it runs by name: itself, its HTTP(S) transport,
 * and `git submodule` (a shell script in git 2.39, with what it sources and runs; run by /kaniko/bin/sh).
 */
const GIT_CORE = '/usr/lib/git-core';
const GIT_SCRIPTS = ['git-submodule', 'git-sh-setup', 'git-sh-i18n'];

function fail(message) {
  console.error(`npm run image: ${message}`);
  process.exit(1);
}

function which(name) {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return fail(`${name} is not installed (scripts/install-test-deps.sh installs what this needs)`);
}

/** The shared libraries `ldd` lists for `file`, as [soname, real path]; the ELF interpreter is "ld". */
function libraries(file) {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (/not a dynamic executable|statically linked/.test(out)) return [];
  if (r.status !== 0) fail(`ldd ${file}: ${out.trim()}`);
  const libs = [];
  for (const line of out.split('\n')) {
    const arrow = /^\s*(\S+) => (\/\S+) \(/.exec(line);
    if (arrow) libs.push([arrow[1], arrow[2]]);
    const interp = /^\s*(\/\S*ld-linux\S*) \(/.exec(line);
    if (interp) libs.push([basename(interp[1]), interp[1]]);
    if (/ => not found/.test(line)) fail(`${file} needs a library that is missing: ${line.trim()}`);
  }
  return libs;
}

/** Copies an ELF program into kaniko/bin (or `dir`) and points it at /kaniko/lib; returns the libraries it needs. */
function addProgram(ctx, src, name, dir = 'bin') {
  const dest = join(ctx, 'kaniko', dir, name);
  copyFileSync(realpathSync(src), dest);
  chmodSync(dest, 0o755);
  const libs = libraries(src);
  // DT_RPATH rather than DT_RUNPATH: it also serves the libraries' own dependencies.
  if (libs.length > 0)
    execFileSync(which('patchelf'), ['--set-interpreter', INTERP, '--force-rpath', '--set-rpath', '/kaniko/lib', dest]);
  return libs;
}

function stage(ctx) {
  rmSync(ctx, { recursive: true, force: true });
  for (const d of ['kaniko/bin', 'kaniko/lib', 'kaniko/ssl/certs', 'kaniko/.docker', 'tmp', 'busybox'])
    mkdirSync(join(ctx, d), { recursive: true });
  chmodSync(join(ctx, 'tmp'), 0o1777);
  // Kaniko's image ships the config.json `docker-credential-gcr configure-docker` writes, so a pod
  // on GKE pushes to GCR with no config of its own; Kiln's gcr helper is built in, and off Google
  // Cloud it answers "no credentials" (anonymous). A mounted config.json replaces this one.
  const gcr = ['asia.gcr.io', 'eu.gcr.io', 'gcr.io', 'staging-k8s.gcr.io', 'us.gcr.io'];
  const dockerConfig = { auths: {}, credHelpers: Object.fromEntries(gcr.map((h) => [h, 'gcr'])) };
  writeFileSync(join(ctx, 'kaniko', '.docker', 'config.json'), `${JSON.stringify(dockerConfig, null, 2)}\n`);
  const bundle = join(repo, 'dist', 'bundle');
  if (!existsSync(join(bundle, 'executor.js'))) fail('dist/bundle is missing: run `npm run build` first');
  cpSync(bundle, join(ctx, 'kaniko', 'lib'), { recursive: true });
  // bin/executor itself (CommonJS, sizing libuv's pool before it starts), with the image's Node
  // in its #! line and the bundle where the image keeps it.
  const shim = readFileSync(join(repo, 'bin', 'executor'), 'utf8');
  const executor = shim
    .replace(/^#!.*\n/, '#!/kaniko/bin/node\n')
    .replace("'../dist/bundle/executor.js'", "'./lib/executor.js'");
  if (!executor.includes("'./lib/executor.js'"))
    fail('bin/executor no longer imports ../dist/bundle/executor.js: update scripts/image.mjs');
  writeFileSync(join(ctx, 'kaniko', 'executor'), executor, { mode: 0o755 });
  const libs = new Map();
  const keep = (list) => list.forEach(([soname, path]) => libs.set(soname, path));
  keep(addProgram(ctx, process.execPath, 'node'));
  for (const t of TOOLS) keep(addProgram(ctx, which(t), t));
  keep(addProgram(ctx, which(SHELL), 'sh'));
  keep(addProgram(ctx, which('git'), 'git'));
  mkdirSync(join(ctx, 'kaniko', 'git-core'));
  symlinkSync('../bin/git', join(ctx, 'kaniko', 'git-core', 'git'));
  if (!existsSync(join(GIT_CORE, 'git-remote-http')))
    fail(`${GIT_CORE}/git-remote-http is missing (Debian package git)`);
  keep(addProgram(ctx, join(GIT_CORE, 'git-remote-http'), 'git-remote-http', 'git-core'));
  symlinkSync('git-remote-http', join(ctx, 'kaniko', 'git-core', 'git-remote-https'));
  keep(addProgram(ctx, join(GIT_CORE, 'git-sh-i18n--envsubst'), 'git-sh-i18n--envsubst', 'git-core'));
  for (const script of GIT_SCRIPTS) {
    const text = readFileSync(join(GIT_CORE, script), 'utf8').replace(/^#!\/bin\/sh\n/, '#!/kaniko/bin/sh\n');
    writeFileSync(join(ctx, 'kaniko', 'git-core', script), text, { mode: 0o755 });
  }
  for (const [soname, path] of libs) copyFileSync(realpathSync(path), join(ctx, 'kaniko', 'lib', soname));
  const busybox = which('busybox');
  if (libraries(busybox).length > 0) fail(`${busybox} is dynamically linked: install busybox-static`);
  copyFileSync(busybox, join(ctx, 'kaniko', 'bin', 'busybox'));
  chmodSync(join(ctx, 'kaniko', 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(ctx, 'kaniko', 'bin', a));
  // The debug variant's shell: every applet busybox has, as Kaniko's /busybox.
  copyFileSync(busybox, join(ctx, 'busybox', 'busybox'));
  chmodSync(join(ctx, 'busybox', 'busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(ctx, 'busybox', a));
  // The debug variant's /bin: only sh, linked to busybox's as in Kaniko's debug image.
  mkdirSync(join(ctx, 'debug-bin'), { mode: 0o755 });
  symlinkSync('/busybox/sh', join(ctx, 'debug-bin', 'sh'));
  const certs = '/etc/ssl/certs/ca-certificates.crt';
  if (!existsSync(certs)) fail(`${certs} is missing (Debian package ca-certificates)`);
  copyFileSync(certs, join(ctx, 'kaniko', 'ssl', 'certs', 'ca-certificates.crt'));
}

/** `--destination REF`, `--oci-layout-path DIR` and the flags to pass on, from this script's arguments. */
function parseArgs(argv) {
  let destination;
  let layout;
  const pass = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--destination' || a === '-d') destination = argv[++i];
    else if (a.startsWith('--destination=')) destination = a.slice('--destination='.length);
    else if (a === '--oci-layout-path') layout = argv[++i];
    else if (a.startsWith('--oci-layout-path=')) layout = a.slice('--oci-layout-path='.length);
    else pass.push(a);
  }
  return { destination, layout, pass };
}

/** REF's debug counterpart: `:debug` for `:latest`, else the tag with `-debug` appended. */
function debugRef(ref) {
  const m = /^(.*?)(?::([\w][\w.-]*))?(@sha256:[0-9a-f]{64})?$/.exec(ref);
  if (!m || m[3]) fail(`--destination ${ref}: give a tag, not a digest`);
  const tag = m[2] ?? 'latest';
  return `${m[1]}:${tag === 'latest' ? 'debug' : `${tag}-debug`}`;
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return process.env.SOURCE_DATE_EPOCH;
  try {
    return execFileSync('git', ['log', '-1', '--format=%ct'], {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return String(Math.floor(Date.now() / 1000));
  }
}

const { destination, layout: layoutArg, pass } = parseArgs(process.argv.slice(2));
const layout = layoutArg ? resolve(layoutArg) : join(repo, 'dist', 'image');
const ctx = layoutArg ? `${layout}.context` : join(repo, 'out', 'image-context');
stage(ctx);
const epoch = sourceDateEpoch();
for (const target of ['latest', 'debug']) {
  const ref = destination
    ? target === 'latest'
      ? destination
      : debugRef(destination)
    : `kiln.local/kiln/executor:${target}`;
  const args = [
    join(repo, 'bin', 'executor'),
    '--context',
    `dir://${ctx}`,
    '--dockerfile',
    join(repo, 'images', 'Dockerfile'),
    '--target',
    target,
    '--destination',
    ref,
    ...(destination ? [] : ['--no-push']),
    '--oci-layout-path',
    layout,
    '--digest-file',
    join(ctx, `..`, `${basename(layout)}-${target}.digest`),
    ...pass,
  ];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, SOURCE_DATE_EPOCH: epoch } });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const digest = readFileSync(join(ctx, `..`, `${basename(layout)}-${target}.digest`), 'utf8').trim();
  console.log(`${target}: ${ref}${destination ? ' (pushed)' : ''} ${digest}`);
}
console.log(`Kiln's image is in the OCI layout ${layout}`);
