// SPDX-License-Identifier: Apache-2.0
//
// Shared plumbing of the scripts that drive the official SDK against
// `cardea serve`: a scratch folder with a fresh database, users provisioned
// with `cardea admin`, a server on 127.0.0.1 with a free port, numbered
// steps, and a bounded run that always stops the server and prints
// `<name>: N passed, M failed` as its last line.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Creates the run state. `name` starts the closing line; `timeoutMs` bounds
// the whole run, after which it fails and stops the server.
export function createHarness({ name, cardea, timeoutMs }) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `cardea-${name.replace(/\W+/g, '-')}-`));
  const db = path.join(work, 'cardea.sqlite');
  const portFile = path.join(work, 'port');
  let server;
  let passed = 0;
  let failed = 0;

  const finish = (code) => {
    clearTimeout(hardTimeout);
    if (server && server.exitCode === null) server.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
    console.log(`${name}: ${passed} passed, ${failed} failed`);
    process.exit(code || (failed > 0 ? 1 : 0));
  };
  const hardTimeout = setTimeout(() => {
    console.log(`${name}: error: hard timeout reached`);
    finish(1);
  }, timeoutMs);

  // Adds a user with password "secret" and returns its data owner id.
  const addUser = (login, type, extra = []) => {
    const out = execFileSync(cardea, ['admin', '--db', db, 'user', 'add', '--login', login,
      '--password', 'secret', '--type', type, ...extra], { encoding: 'utf8' });
    return out.trim().split('\n').pop().trim();
  };

  // Starts the server with `extraArgs` and returns its base URL.
  const startServer = async (extraArgs = []) => {
    server = spawn(cardea, ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile,
      '--db', db, '--log-level', 'warn', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 100; i++) {
      if (fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim()) {
        return `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;
      }
      if (server.exitCode !== null) throw new Error(`cardea serve exited with status ${server.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('cardea serve did not write its port file within 10 s');
  };

  // Runs one named step: prints ok or FAIL, counts it, and rethrows a failure.
  const step = async (stepName, fn) => {
    try {
      const result = await fn();
      passed++;
      console.log(`ok   ${stepName}`);
      return result;
    } catch (e) {
      failed++;
      console.log(`FAIL ${stepName}: ${String(e && (e.stack || e.message || e)).slice(0, 600)}`);
      throw e;
    }
  };

  // Ends a run that failed outside any step (set-up), counting it once.
  const failSetup = (e) => {
    if (failed === 0) {
      failed++;
      console.log(`FAIL set-up: ${String(e && (e.stack || e.message || e)).slice(0, 600)}`);
    }
    finish(1);
  };

  return { work, db, addUser, startServer, step, finish, failSetup };
}
