/**
 * docker's credential helpers: `docker-credential-<name> get|store|erase` found on PATH, speaking
 * docker-credential-helpers' protocol: `get` reads the server URL on stdin and prints
 * {ServerURL, Username, Secret}; `store` reads that JSON; `erase` reads the server URL. A Username of
 * `<token>` means Secret is an identity (OAuth2 refresh) token, not a password.
 */
import { spawn } from 'node:child_process';
import { SkiffError } from '../../common/index.ts';

export interface HelperCredentials {
  readonly serverURL: string;
  readonly username: string;
  readonly secret: string;
}

/** docker-credential-helpers' own words for an entry it does not hold. */
const NOT_FOUND = 'credentials not found in native keychain';

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runHelper(name: string, verb: string, input: string): Promise<Ran> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new SkiffError(
          'FailedPrecondition',
          err.code === 'ENOENT'
            ? `credential helper ${program} not found on PATH (named by the docker config file's credsStore or credHelpers)`
            : `credential helper ${program} ${verb}: ${err.code ?? err.message}`,
          { cause: err },
        ),
      );
    });
    // A helper that exits without reading its input must not kill us with EPIPE.
    child.stdin.on('error', () => {});
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function helperFailed(name: string, verb: string, ran: Ran): SkiffError {
  const said = (ran.stderr.trim() || ran.stdout.trim()).replace(/\s+/g, ' ');
  return new SkiffError(
    'FailedPrecondition',
    `credential helper docker-credential-${name} ${verb} failed (exit ${ran.code ?? 'signal'})${said ? `: ${said}` : ''}`,
  );
}

/** The helper's entry for serverURL; undefined when it holds none. */
export async function helperGet(name: string, serverURL: string): Promise<HelperCredentials | undefined> {
  const ran = await runHelper(name, 'get', serverURL);
  if (ran.code !== 0) {
    if (ran.stdout.includes(NOT_FOUND) || ran.stderr.includes(NOT_FOUND)) return undefined;
    throw helperFailed(name, 'get', ran);
  }
  let body: { ServerURL?: unknown; Username?: unknown; Secret?: unknown };
  try {
    body = JSON.parse(ran.stdout);
  } catch (err) {
    throw new SkiffError(
      'FailedPrecondition',
      `credential helper docker-credential-${name} get: not JSON on its output: ${ran.stdout.slice(0, 200)}`,
      { cause: err },
    );
  }
  if (typeof body.Username !== 'string' || typeof body.Secret !== 'string')
    throw new SkiffError(
      'FailedPrecondition',
      `credential helper docker-credential-${name} get: the answer lacks Username or Secret`,
    );
  if (body.Secret === '') return undefined;
  return {
    serverURL: typeof body.ServerURL === 'string' ? body.ServerURL : serverURL,
    username: body.Username,
    secret: body.Secret,
  };
}

export async function helperStore(name: string, credentials: HelperCredentials): Promise<void> {
  const input = JSON.stringify({
    ServerURL: credentials.serverURL,
    Username: credentials.username,
    Secret: credentials.secret,
  });
  const ran = await runHelper(name, 'store', input);
  if (ran.code !== 0) throw helperFailed(name, 'store', ran);
}

/** Erases serverURL's entry; false when the helper held none. */
export async function helperErase(name: string, serverURL: string): Promise<boolean> {
  const ran = await runHelper(name, 'erase', serverURL);
  if (ran.code === 0) return true;
  if (ran.stdout.includes(NOT_FOUND) || ran.stderr.includes(NOT_FOUND)) return false;
  throw helperFailed(name, 'erase', ran);
}
