// SPDX-License-Identifier: Apache-2.0
//
// Recovery interoperability between Cardea and the official SDK,
// @icure/cardinal-sdk 1.0.0-RC.7, against a `cardea serve` that this script
// starts on 127.0.0.1 with a fresh database:
// - KEYPAIR_RECOVERY data made by the official SDK is used by Cardea, and
//   the reverse;
// - a KEY_PAIR_UPDATE task made by the official SDK is applied by Cardea,
//   and the reverse, after which the data owner that lost its key reads
//   the counterpart's data with its new key.
// Cardea's side runs through recovery_driver, one process per step.
//
// Usage: node recovery_interop.mjs CARDEA_BINARY RECOVERY_DRIVER
// Environment: HARD_TIMEOUT_MS (default 240000) bounds the whole run.
// Prints one line per step and closes with
// `recovery interop: N passed, M failed`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { check, createHarness } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [cardea, driver] = process.argv.slice(2);
if (!cardea || !fs.existsSync(cardea) || !driver || !fs.existsSync(driver)) {
  console.error('recovery interop: usage: node recovery_interop.mjs CARDEA_BINARY RECOVERY_DRIVER');
  process.exit(2);
}
const sdkPath = path.join(here, 'node_modules/@icure/cardinal-sdk/cardinal-sdk-ts.mjs');
if (!fs.existsSync(sdkPath)) {
  console.error(`recovery interop: ${sdkPath} not found; run "npm ci" in ${here}`);
  process.exit(2);
}
const {
  CardinalSdk, AuthenticationMethod, StorageFacade, CryptoStrategies,
  DecryptedHealthElement, DecryptedPatient, MaintenanceTaskFilters, KeyPairUpdateNotification,
  RecoveryDataKey,
} = await import(pathToFileURL(sdkPath).href);

const { work, addUser, startServer, step, finish, failSetup } = createHarness({
  name: 'recovery interop', cardea,
  timeoutMs: Number(process.env.HARD_TIMEOUT_MS || 240000),
});
const dir = (name) => {
  const d = path.join(work, 'stores', name);
  fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
};

let base;
// One Cardea session: runs the driver and parses the JSON it prints.
function cardeaRun(login, store, ...args) {
  const out = execFileSync(driver, [base, login, 'secret', store, ...args],
    { encoding: 'utf8', timeout: 60000 });
  return JSON.parse(out.trim().split('\n').pop());
}

const init = (user, store) => CardinalSdk.initialize(undefined, base,
  new AuthenticationMethod.UsingCredentials.UsernamePassword(user, 'secret'),
  StorageFacade.usingFileSystem(store), { cryptoStrategies: new CryptoStrategies() });

const fpV1 = (spki) => spki.slice(-32);

async function publishedKeys(sdk) {
  return (await sdk.dataOwner.getCurrentDataOwnerStub()).stub.publicKeysForOaepWithSha256;
}

// A health element needs a patient in the official SDK; each gets its own.
async function newElement(sdk, descr, delegate) {
  const patient = await sdk.patient.createPatient(await sdk.patient.withEncryptionMetadata(
    new DecryptedPatient({ id: randomUUID(), firstName: 'Interop', lastName: 'Patient' })));
  const he = await sdk.healthElement.createHealthElement(
    await sdk.healthElement.withEncryptionMetadata(new DecryptedHealthElement({ descr }), patient));
  return delegate ? sdk.healthElement.shareWith(delegate, he) : he;
}

async function applyAll(sdk) {
  const it = await sdk.maintenanceTask.filterMaintenanceTasksBy(
    MaintenanceTaskFilters.byTypeForSelf(KeyPairUpdateNotification.TASK_TYPE));
  const tasks = (await it.hasNext()) ? await it.next(50) : [];
  for (const t of tasks) {
    await sdk.cardinalMaintenanceTask.applyKeyPairUpdate(KeyPairUpdateNotification.parseFromMaintenanceTask(t));
  }
  return tasks.length;
}

try {
  addUser('off-a@example.org', 'hcp');
  addUser('car-c@example.org', 'hcp');
  addUser('off-x@example.org', 'hcp');
  addUser('car-y@example.org', 'hcp');
  addUser('car-z@example.org', 'hcp');
  addUser('off-w@example.org', 'hcp');
  base = await startServer();

  // 1. Official SDK -> Cardea: key-pair recovery data.
  const a = await step('official SDK: HCP A creates its key and a health element', async () => {
    const sdk = await init('off-a@example.org', dir('a'));
    const he = await newElement(sdk, 'made by the official SDK');
    return { sdk, he, keys: await publishedKeys(sdk) };
  });
  const aKey = await step('official SDK: A creates key-pair recovery data', async () =>
    (await a.sdk.recovery.createRecoveryInfoForAvailableKeyPairs()).asBase32());
  await step('Cardea: a new device of A recovers the key with that recovery key', () => {
    const r = cardeaRun('off-a@example.org', dir('a-cardea'), 'recover-pairs', aKey);
    check(r.recovered === 1, `Cardea recovered ${r.recovered} key pairs`);
    check(r.keys.some((k) => k.fp === fpV1(a.keys[0])), 'the recovered key is not A\'s published key');
  });
  await step('Cardea: with the recovered key, A\'s new device reads the health element', () => {
    const r = cardeaRun('off-a@example.org', dir('a-cardea'), 'read-element', a.he.id);
    check(r.descr === 'made by the official SDK', `Cardea read ${JSON.stringify(r.descr)}`);
  });

  // 2. Cardea -> official SDK: key-pair recovery data.
  const c = await step('Cardea: HCP C creates its key and key-pair recovery data', () =>
    cardeaRun('car-c@example.org', dir('c'), 'create-pairs'));
  await step('official SDK: C recovers Cardea\'s key pair with that recovery key', async () => {
    const sdk = await init('car-c@example.org', dir('c-official'));
    const key = RecoveryDataKey.fromBase32(c.recoveryKey.replace(/-/g, ''));
    const result = await sdk.recovery.recoverKeyPairs(key, false);
    check(result.data !== undefined, `recovery failed: ${JSON.stringify(result.reason)}`);
    const mine = result.data[(await sdk.dataOwner.getCurrentDataOwnerStub()).stub.id] || {};
    const fps = Object.keys(mine).map(fpV1);
    check(fps.includes(c.keys[0].fp), `the official SDK recovered ${JSON.stringify(fps)}, not ${c.keys[0].fp}`);
  });

  // 3. KEY_PAIR_UPDATE made by the official SDK, applied by Cardea.
  const y = await step('Cardea: HCP Y creates its key', () => cardeaRun('car-y@example.org', dir('y'), 'open'));
  const x = await step('official SDK: HCP X shares a health element with Y; Y shares one with X', async () => {
    const sdk = await init('off-x@example.org', dir('x'));
    const mine = await newElement(sdk, 'X to Y', y.dataOwnerId);
    const xId = (await sdk.dataOwner.getCurrentDataOwnerStub()).stub.id;
    const theirs = cardeaRun('car-y@example.org', dir('y'), 'create-element', 'Y to X', xId);
    const read = await sdk.healthElement.getHealthElement(theirs.id);
    check(read.descr === 'Y to X', `X read ${JSON.stringify(read.descr)}`);
    return { mine, theirs, xId };
  });
  await step('official SDK: X loses its key and asks its counterparts', async () => {
    const sdk = await init('off-x@example.org', dir('x-new'));
    const keys = await publishedKeys(sdk);
    check(keys.length === 2, `X should have two keys, has ${keys.length}`);
    await sdk.cardinalMaintenanceTask.createKeyPairUpdateNotificationsToAllDelegationCounterparts(keys[keys.length - 1]);
  });
  await step('Cardea: Y applies the official SDK\'s KEY_PAIR_UPDATE task', () => {
    const r = cardeaRun('car-y@example.org', dir('y'), 'apply-all');
    check(r.listed === 1 && r.applied === 1, `Cardea listed ${r.listed} and applied ${r.applied} tasks`);
    check(r.updated >= 1, `Cardea updated ${r.updated} exchange data`);
  });
  await step('official SDK: X\'s new device reads Y\'s health element', async () => {
    const sdk = await init('off-x@example.org', dir('x-new'));
    const read = await sdk.healthElement.getHealthElement(x.theirs.id);
    check(read.descr === 'Y to X', `X read ${JSON.stringify(read.descr)}`);
  });

  // 4. KEY_PAIR_UPDATE made by Cardea, applied by the official SDK.
  const z = await step('Cardea: HCP Z creates its key', () => cardeaRun('car-z@example.org', dir('z'), 'open'));
  const w = await step('official SDK: HCP W shares a health element with Z', async () => {
    const sdk = await init('off-w@example.org', dir('w'));
    const he = await newElement(sdk, 'W to Z', z.dataOwnerId);
    const read = cardeaRun('car-z@example.org', dir('z'), 'read-element', he.id);
    check(read.descr === 'W to Z', `Z read ${JSON.stringify(read.descr)}`);
    return { he };
  });
  await step('Cardea: Z loses its key and asks its counterparts', () => {
    const r = cardeaRun('car-z@example.org', dir('z-new'), 'request-access');
    check(r.created === 1, `Cardea created ${r.created} tasks`);
  });
  await step('official SDK: W applies Cardea\'s KEY_PAIR_UPDATE task', async () => {
    const sdk = await init('off-w@example.org', dir('w'));
    const n = await applyAll(sdk);
    check(n === 1, `the official SDK found ${n} tasks`);
  });
  await step('Cardea: Z\'s new device reads W\'s health element', () => {
    const r = cardeaRun('car-z@example.org', dir('z-new'), 'read-element', w.he.id);
    check(r.descr === 'W to Z', `Z read ${JSON.stringify(r.descr)}`);
  });
  finish(0);
} catch (e) {
  failSetup(e);
}
