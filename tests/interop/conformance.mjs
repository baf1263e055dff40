// SPDX-License-Identifier: Apache-2.0
//
// Conformance test: drives the official SDK, @icure/cardinal-sdk 1.0.0-RC.7,
// unmodified, through every end-to-end-encryption flow it uses, against a
// `cardea serve` that this script starts itself on 127.0.0.1 with a fresh
// database. Each step checks what the SDK decrypted and, with plain HTTP
// requests, what the server lets a stranger see.
//
// Usage: node conformance.mjs CARDEA_BINARY
// Environment: WAIT_MS (default 35000) is the pause before the token-refresh
// step; the server issues 3-second access tokens so that the SDK must
// refresh. HARD_TIMEOUT_MS (default 300000) bounds the whole run.
// Prints one line per step and closes with `conformance: N passed, M failed`.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { check, createHarness } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cardea = process.argv[2];
if (!cardea || !fs.existsSync(cardea)) {
  console.error('conformance: missing or invalid path to the cardea binary; usage: node conformance.mjs CARDEA_BINARY');
  process.exit(2);
}
const sdkPath = path.join(here, 'node_modules/@icure/cardinal-sdk/cardinal-sdk-ts.mjs');
if (!fs.existsSync(sdkPath)) {
  console.error(`conformance: ${sdkPath} not found; run "npm ci" in ${here} (make check does)`);
  process.exit(2);
}
const sdkmod = await import(pathToFileURL(sdkPath).href);
const {
  CardinalSdk, AuthenticationMethod, StorageFacade, CryptoStrategies,
  DecryptedPatient, DecryptedHealthElement, DecryptedDocument,
  PatientFilters, HealthElementFilters, MaintenanceTaskFilters,
  KeyPairUpdateNotification,
} = sdkmod;

const { work, addUser, startServer, step, finish, failSetup } = createHarness({
  name: 'conformance', cardea, timeoutMs: Number(process.env.HARD_TIMEOUT_MS || 300000),
});
const storage = (name) => path.join(work, 'storage', name);

// Plain HTTP helpers, for what the SDK hides: the stored JSON and the
// server's answer to a caller without access.
async function login(base, user) {
  const r = await fetch(`${base}/rest/v2/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: 'secret' }),
  });
  check(r.status === 200, `login of ${user} returned ${r.status}`);
  return (await r.json()).token;
}

async function raw(base, token, method, p, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(`${base}/rest/v2${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, text };
}

const init = (base, user, dir) => CardinalSdk.initialize(undefined, base,
  new AuthenticationMethod.UsingCredentials.UsernamePassword(user, 'secret'),
  StorageFacade.usingFileSystem(dir), { cryptoStrategies: new CryptoStrategies() });

try {
  const patientId = randomUUID();
  const hcp1 = addUser('doc@example.org', 'hcp', ['--name', 'Doctor One']);
  const hcp2 = addUser('bob@example.org', 'hcp', ['--name', 'Doctor Two']);
  addUser('eve@example.org', 'hcp', ['--name', 'Unrelated Doctor']);
  addUser('pat@example.org', 'patient', ['--data-owner-id', patientId]);
  const base = await startServer(['--token-lifetime', '3']);
  const eve = await login(base, 'eve@example.org');

  const sdk2 = await step('HCP-2 initialises and creates its key pair', () => init(base, 'bob@example.org', storage('hcp2')));
  const sdk = await step('HCP-1 initialises and creates its key pair', async () => {
    const s = await init(base, 'doc@example.org', storage('hcp1'));
    const stub = JSON.parse((await raw(base, await login(base, 'doc@example.org'), 'GET', `/dataowner/stub/${hcp1}`)).text);
    check(stub.stub.publicKeysForOaepWithSha256.length === 1, 'HCP-1 should have published one key');
    return s;
  });
  const patient = await step('HCP-1 creates an encrypted patient', async () => {
    const p = await sdk.patient.createPatient(await sdk.patient.withEncryptionMetadata(
      new DecryptedPatient({ id: patientId, firstName: 'John', lastName: 'Doe', note: 'confidential note' })));
    const stored = await raw(base, await login(base, 'doc@example.org'), 'GET', `/patient/${patientId}`);
    check(stored.status === 200, `stored patient returned ${stored.status}`);
    check(!stored.text.includes('confidential note'), 'the note is stored in clear');
    check(JSON.parse(stored.text).encryptedSelf, 'the stored patient has no encryptedSelf');
    return p;
  });
  const he = await step('HCP-1 creates an encrypted health element for the patient', async () =>
    sdk.healthElement.createHealthElement(await sdk.healthElement.withEncryptionMetadata(
      new DecryptedHealthElement({ descr: 'Type 2 diabetes', note: 'private' }), patient)));
  await step('a stranger HCP cannot read the health element or the patient', async () => {
    for (const p of [`/helement/${he.id}`, `/patient/${patientId}`]) {
      const r = await raw(base, eve, 'GET', p);
      check(r.status === 403 || r.status === 404, `GET ${p} by a stranger returned ${r.status}`);
      check(!r.text.includes('encryptedSelf'), `GET ${p} by a stranger leaked the entity`);
    }
    const byIds = await raw(base, eve, 'POST', '/helement/byIds', { ids: [he.id] });
    check(byIds.status === 200 && JSON.parse(byIds.text).length === 0, 'byIds leaked the entity to a stranger');
  });
  await step('HCP-1 shares the health element with HCP-2', () => sdk.healthElement.shareWith(hcp2, he));
  await step('HCP-1 shares the patient with HCP-2', () => sdk.patient.shareWith(hcp2, patient));
  await step('HCP-2 decrypts the shared health element', async () => {
    const x = await sdk2.healthElement.getHealthElement(he.id);
    check(x.descr === 'Type 2 diabetes', `HCP-2 decrypted descr ${JSON.stringify(x.descr)}`);
  });
  await step('HCP-1 gets the health element', () => sdk.healthElement.getHealthElement(he.id));
  await step('HCP-1 filters its patients', async () => {
    const it = await sdk.patient.filterPatientsBy(PatientFilters.allPatientsForSelf());
    const page = (await it.hasNext()) ? await it.next(10) : [];
    check(page.some((p) => p.id === patientId), 'the patient is missing from the filter result');
  });
  await step('HCP-1 matches its health elements', async () => {
    const ids = await sdk.healthElement.matchHealthElementsBy(HealthElementFilters.allHealthElementsForSelf());
    check(ids.includes(he.id), 'the health element is missing from match');
  });
  await step('HCP-1 stores and reads back an encrypted attachment', async () => {
    const d = await sdk.document.createDocument(await sdk.document.withEncryptionMetadata(new DecryptedDocument({ name: 'report.txt' }), undefined));
    const withAttachment = await sdk.document.encryptAndSetMainAttachment(d, ['public.plain-text'], new Int8Array(Buffer.from('hello')));
    const again = await sdk.document.getDocument(withAttachment.id);
    const bytes = await sdk.document.getAndDecryptMainAttachment(again);
    check(Buffer.from(bytes).toString() === 'hello', 'the attachment did not round-trip');
    const stored = await fetch(`${base}/rest/v2/document/${d.id}/attachment`, { headers: { Authorization: `Bearer ${await login(base, 'doc@example.org')}` } });
    const storedBytes = Buffer.from(await stored.arrayBuffer());
    check(stored.status === 200 && !storedBytes.includes(Buffer.from('hello')), 'the attachment is stored in clear');
    const strangerGet = await raw(base, eve, 'GET', `/document/${d.id}/attachment`);
    check(strangerGet.status === 403 || strangerGet.status === 404, `a stranger read the attachment: ${strangerGet.status}`);
  });
  await step('HCP-1 modifies the patient; a stale revision is rejected', async () => {
    const before = await sdk.patient.getPatient(patientId);
    const after = await sdk.patient.modifyPatient(new DecryptedPatient({ ...before, note: 'changed' }));
    check((await sdk.patient.getPatient(patientId)).note === 'changed', 'the modified note did not read back');
    const token = await login(base, 'doc@example.org');
    const stored = JSON.parse((await raw(base, token, 'GET', `/patient/${patientId}`)).text);
    const stale = await raw(base, token, 'PUT', '/patient', { ...stored, rev: before.rev });
    check(stale.status === 409, `a stale revision returned ${stale.status}`);
    return after;
  });
  await step('the patient user initialises and creates its key pair', () => init(base, 'pat@example.org', storage('patient')));
  await step('HCP-1 shares the health element with the patient (anonymous delegate)', async () =>
    sdk.healthElement.shareWith(patientId, await sdk.healthElement.getHealthElement(he.id)));
  await step('HCP-1 shares the patient with the patient itself', async () =>
    sdk.patient.shareWith(patientId, await sdk.patient.getPatient(patientId)));
  const psdk = await step('the patient re-initialises and loads its exchange data', () => init(base, 'pat@example.org', storage('patient')));
  const pSelf = await step('the patient reads its own patient entity', async () => {
    const p = await psdk.patient.getPatient(patientId);
    check(p.note === 'changed', `the patient decrypted note ${JSON.stringify(p.note)}`);
    return p;
  });
  await step('the patient decrypts the health element shared by HCP-1', async () => {
    const x = await psdk.healthElement.getHealthElement(he.id);
    check(x.descr === 'Type 2 diabetes', `the patient decrypted descr ${JSON.stringify(x.descr)}`);
  });
  await step('the patient matches its health elements', async () => {
    const ids = await psdk.healthElement.matchHealthElementsBy(HealthElementFilters.allHealthElementsForSelf());
    check(ids.includes(he.id), 'the shared health element is missing from the patient match');
  });
  await step('without access-control keys the patient user reads nothing', async () => {
    const r = await raw(base, await login(base, 'pat@example.org'), 'GET', `/helement/${he.id}`);
    check(r.status === 403 || r.status === 404, `GET without keys returned ${r.status}`);
  });
  const mine = await step('the patient creates its own encrypted health element', async () =>
    psdk.healthElement.createHealthElement(await psdk.healthElement.withEncryptionMetadata(
      new DecryptedHealthElement({ descr: 'self-reported headache' }), pSelf)));
  await step('the stored patient-made entity names no patient id', async () => {
    const r = await raw(base, await login(base, 'doc@example.org'), 'GET', `/helement/${mine.id}`);
    check(r.status === 403 || r.status === 404, `HCP-1 read the unshared entity: ${r.status}`);
  });
  await step('the patient shares its health element with HCP-1', async () =>
    psdk.healthElement.shareWith(hcp1, await psdk.healthElement.getHealthElement(mine.id)));
  await step('HCP-1 decrypts it through the exchange-data map', async () => {
    const x = await sdk.healthElement.getHealthElement(mine.id);
    check(x.descr === 'self-reported headache', `HCP-1 decrypted descr ${JSON.stringify(x.descr)}`);
    const stored = await raw(base, await login(base, 'doc@example.org'), 'GET', `/helement/${mine.id}`);
    check(!stored.text.includes(patientId), 'the patient id appears in the stored entity');
  });
  await step('HCP-1 creates de-anonymisation metadata for HCP-2', async () =>
    sdk.healthElement.createDelegationDeAnonymizationMetadata(await sdk.healthElement.getHealthElement(he.id), [hcp2]));
  await step('HCP-1 re-initialises with its stored keys', () => init(base, 'doc@example.org', storage('hcp1')));
  const sdkShort = await step('HCP-1 initialises a session for the token-refresh check', () => init(base, 'doc@example.org', storage('hcp1')));
  await step('after the access token expired, a call refreshes it and succeeds', async () => {
    await new Promise((r) => setTimeout(r, Number(process.env.WAIT_MS || 35000)));
    const p = await sdkShort.patient.getPatient(patientId);
    check(p.note === 'changed', 'the patient read after refresh is wrong');
  });
  let recoveryKey;
  await step('HCP-1 creates key-pair recovery data', async () => { recoveryKey = await sdk.recovery.createRecoveryInfoForAvailableKeyPairs(); });
  await step('HCP-1 creates exchange-data recovery data for HCP-2', () => sdk.recovery.createExchangeDataRecoveryInfo(hcp2));
  await step('HCP-1 purges exchange-data recovery data for HCP-2', () => sdk.recovery.purgeAllExchangeDataRecoveryInfoFor(hcp2));
  const sdk3 = await step('HCP-1 on a new device without its key gets a new key', () => init(base, 'doc@example.org', storage('hcp1-new-device')));
  await step('HCP-1 notifies its counterparts of the new key', async () => {
    const keys = (await sdk3.dataOwner.getCurrentDataOwnerStub()).stub.publicKeysForOaepWithSha256;
    check(keys.length === 2, `HCP-1 should have two keys, has ${keys.length}`);
    return sdk3.cardinalMaintenanceTask.createKeyPairUpdateNotificationsToAllDelegationCounterparts(keys[keys.length - 1]);
  });
  await step('HCP-1 recovers its old key pair with the recovery key', async () => {
    const result = await sdk3.recovery.recoverKeyPairs(recoveryKey, false);
    check(result.data !== undefined, `recovery failed: ${JSON.stringify(result.reason)}`);
  });
  const sdk2b = await step('HCP-2 re-initialises', () => init(base, 'bob@example.org', storage('hcp2')));
  const tasks = await step('HCP-2 lists its KEY_PAIR_UPDATE tasks', async () => {
    const it = await sdk2b.maintenanceTask.filterMaintenanceTasksBy(MaintenanceTaskFilters.byTypeForSelf(KeyPairUpdateNotification.TASK_TYPE));
    const page = (await it.hasNext()) ? await it.next(10) : [];
    check(page.length >= 1, 'HCP-2 received no key-pair update task');
    return page;
  });
  await step('HCP-2 gives access back to the new key', async () => {
    for (const t of tasks) await sdk2b.cardinalMaintenanceTask.applyKeyPairUpdate(KeyPairUpdateNotification.parseFromMaintenanceTask(t));
  });
  await step('HCP-2 still reads the health element shared by HCP-1', async () => {
    const x = await sdk2b.healthElement.getHealthElement(he.id);
    check(x.descr === 'Type 2 diabetes', `HCP-2 decrypted descr ${JSON.stringify(x.descr)}`);
  });
  finish(0);
} catch (e) {
  failSetup(e);
}
