import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { unusedPort } from './ports.js';

/** Where Debian's package installs it (`apt-get install pgbouncer`; .ci/run does). */
export const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Why the PgBouncer tests cannot run on this machine, or `undefined` when they can. */
export const pgbouncerMissing: string | undefined = existsSync(PGBOUNCER)
  ? undefined
  : `${PGBOUNCER} is not installed (apt-get install pgbouncer)`;

/** A PgBouncer of a test's own, in front of the test server. */
export interface PgBouncerConfig {
  /** `[databases]`: the name clients connect to → the database on the test server. */
  databases: Record<string, string>;
  /**
   * `auth_file`: user → password, in plain text (PgBouncer checks clients against it and logs
   * in to the server with it).
   */
  users: Record<string, string>;
  /** `md5` (the default): clients must know the password; `trust`: only be listed. */
  authType?: 'md5' | 'trust';
  /** Server connections per database and user (default 2). */
  defaultPoolSize?: number;
  /** More `[pgbouncer]` settings (`ignore_startup_parameters`, ...). */
  settings?: Record<string, string | number>;
}

/** The console user of every test PgBouncer; not a server role. */
const ADMIN = { user: 'pgbouncer_admin', password: 'admin-of-the-test-pooler' };

/** Bouncers still running: a test that fails before stopping its own must not leave it behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * PgBouncer in transaction mode (`pool_mode = transaction`, as poolers in front of apps run),
 * started as a child process on a free port of 127.0.0.1 with a configuration of its own in a
 * temporary directory, in front of the test server. PgBouncer refuses to run as root: as root it
 * is started with `-u` as `postgres` (or `nobody`), which must be able to read that directory.
 */
export class PgBouncer {
  readonly port: number;
  readonly #dir: string;
  readonly #server: URL;
  #config: PgBouncerConfig;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';

  private constructor(port: number, config: PgBouncerConfig) {
    this.port = port;
    this.#config = config;
    this.#server = new URL(inject('adminDatabaseUrl'));
    this.#dir = mkdtempSync(path.join(os.tmpdir(), 'pga-pgbouncer-'));
    // Read by the user PgBouncer switches to.
    chmodSync(this.#dir, 0o755);
  }

  /** Writes the configuration and starts PgBouncer; resolves once it listens. */
  static async start(config: PgBouncerConfig): Promise<PgBouncer> {
    const bouncer = new PgBouncer(await unusedPort(), config);
    await bouncer.start();
    return bouncer;
  }

  /** `url` (a URL of the test server) as it reaches the same database and user through PgBouncer. */
  urlFor(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  /** What PgBouncer printed (its log), for a failing test's message. */
  get log(): string {
    return this.#output;
  }

  /** Starts (again, on the same port, after {@link kill}); resolves once it listens. */
  async start(): Promise<void> {
    this.#write();
    const asRoot = process.getuid?.() === 0 ? ['-u', systemUser()] : [];
    const child = spawn(PGBOUNCER, [...asRoot, path.join(this.#dir, 'pgbouncer.ini')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    running.add(child);
    this.#exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        this.#output += chunk.toString('utf8');
        if (/process up/.test(this.#output)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void this.#exited.then(() => reject(new Error(`pgbouncer exited before listening:\n${this.#output}`)));
    });
  }

  /** Changes the configuration and has PgBouncer read it again (`RELOAD`), as an operator would. */
  async reconfigure(changes: Partial<PgBouncerConfig>): Promise<void> {
    this.#config = { ...this.#config, ...changes };
    this.#write();
    await this.admin('RELOAD');
  }

  /** A command on PgBouncer's admin console (`SHOW POOLS`, `RELOAD`, ...): its rows. */
  async admin<R extends pg.QueryResultRow = Record<string, unknown>>(command: string): Promise<R[]> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.port,
      database: 'pgbouncer',
      user: ADMIN.user,
      password: ADMIN.password,
    });
    await client.connect();
    try {
      return (await client.query<R>(command)).rows;
    } finally {
      await client.end();
    }
  }

  /** Kills PgBouncer at once (SIGKILL: no goodbye to clients or servers); resolves when it is gone. */
  async kill(): Promise<void> {
    this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  /** Stops PgBouncer and removes its directory. */
  async stop(): Promise<void> {
    this.#child?.kill('SIGTERM');
    await this.#exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #write(): void {
    const { databases, users, authType = 'md5', defaultPoolSize = 2, settings = {} } = this.#config;
    const server = `host=${this.#server.hostname} port=${this.#server.port || 5432}`;
    const ini = [
      '[databases]',
      ...Object.entries(databases).map(([name, dbname]) => `${name} = ${server} dbname=${dbname}`),
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${this.port}`,
      'unix_socket_dir =',
      `auth_type = ${authType}`,
      `auth_file = ${path.join(this.#dir, 'userlist.txt')}`,
      `admin_users = ${ADMIN.user}`,
      'pool_mode = transaction',
      `default_pool_size = ${defaultPoolSize}`,
      ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
    ];
    const quote = (text: string): string => `"${text.replaceAll('"', '""')}"`;
    const userlist = Object.entries({ ...users, [ADMIN.user]: ADMIN.password }).map(
      ([user, password]) => `${quote(user)} ${quote(password)}`,
    );
    for (const [file, lines] of [
      ['pgbouncer.ini', ini],
      ['userlist.txt', userlist],
    ] as const) {
      writeFileSync(path.join(this.#dir, file), `${lines.join('\n')}\n`, { mode: 0o644 });
      chmodSync(path.join(this.#dir, file), 0o644);
    }
  }
}

/** The unprivileged user PgBouncer runs as when the tests run as root. */
function systemUser(): string {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  return /^postgres:/m.test(passwd) ? 'postgres' : 'nobody';
}
