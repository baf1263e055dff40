// SPDX-License-Identifier: Apache-2.0
//
// Writes a vector file made with Node.js WebCrypto, for crosscheck.c to
// decrypt and reproduce. It uses the parameters of the official
// iCure/Cardinal SDK. RSA-OAEP keys are 2048 bits with exponent 65537, an
// empty label and MGF1 on the OAEP hash, which is SHA-1 or SHA-256. AES-CBC
// blobs are a random IV followed by the ciphertext. HMAC-SHA-512 keys are
// 128 bytes. The format-level values (acKey, sdKey, the shared-signature
// text and HMAC, the delegator HMAC signature, "Cure"-prefixed
// secure-delegation values and whole ExchangeData objects) are computed
// from their definitions, written out below, so that C and JavaScript
// implement them independently.
//
// This module also exports those format helpers for webcrypto_check.mjs.
//
// Usage: node webcrypto_vectors.mjs OUT.json
// The file holds the freshly generated test keys, so it belongs in a
// temporary directory. Nothing secret is printed.

import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const subtle = webcrypto.subtle;
const encoder = new TextEncoder();

export const VECTOR_FORMAT = 'cardea-interop-vectors/1';
export const RSA_EXPONENT = new Uint8Array([0x01, 0x00, 0x01]);
export const SECURE_DELEGATION_PREFIX = 'Cure';
export const EXCHANGE_MAPS = ['exchangeKey', 'accessControlSecret',
    'sharedSignatureKey'];

export function toHex(bytes) {
    return Buffer.from(bytes).toString('hex');
}

export function fromHex(hex) {
    if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(hex)) {
        throw new Error('invalid hex string');
    }
    return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function toBase64(bytes) {
    return Buffer.from(bytes).toString('base64');
}

export function fromBase64(text) {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.toString('base64') !== text) {
        throw new Error('invalid base64 string');
    }
    return new Uint8Array(bytes);
}

export function randomBytes(length) {
    return webcrypto.getRandomValues(new Uint8Array(length));
}

export function concatBytes(...parts) {
    return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

export async function digest(algorithm, bytes) {
    return new Uint8Array(await subtle.digest(algorithm, bytes));
}

export async function hmacSha512(keyBytes, data) {
    const key = await subtle.importKey('raw', keyBytes,
        { name: 'HMAC', hash: 'SHA-512' }, false, ['sign']);
    return new Uint8Array(await subtle.sign('HMAC', key, data));
}

// Fingerprint v1 is the last 32 hex characters of the SPKI hex. Version 2
// drops the last 10 of those ("0203010001", the DER of exponent 65537).
export function fingerprintV1(spkiHex) {
    return spkiHex.slice(-32);
}

export function fingerprintV2(spkiHex) {
    return fingerprintV1(spkiHex).slice(0, 22);
}

// acKey = first 16 bytes of SHA-256(UTF-8(secretHex + entityType)), and
// sdKey = lowercase hex of SHA-256(acKey).
export async function accessControlKey(secretHex, entityType) {
    const input = encoder.encode(secretHex + entityType);
    const hash = await digest('SHA-256', input);
    return hash.slice(0, 16);
}

export async function secureDelegationKey(acKey) {
    return toHex(await digest('SHA-256', acKey));
}

// Builds the text the official Kotlin SDK signs for the shared signature.
// It is plain concatenation without JSON escaping. The secret appears as
// the Kotlin value-class text "AccessControlSecret(s=<hex>)", and the text
// ends with two closing brackets, not three. Fingerprints are deduplicated
// and sorted as strings.
export function sharedSignatureText(delegator, delegate, exchangeKeyHex,
    secretHex, fingerprints) {
    const sorted = [...new Set(fingerprints)].sort();
    const list = sorted.map((f) => `"${f}"`).join(',');
    return `[["delegator","${delegator}"],["delegate","${delegate}"],` +
        `["exchangeKey","${exchangeKeyHex}"],` +
        `["accessControlSecret","AccessControlSecret(s=${secretHex})"],` +
        `["publicKeysFingerprints",[${list}]]`;
}

// Delegator signature of the current Kotlin SDK:
// HMAC-SHA-512(key = SHA-512(PKCS#8 DER), data = SHA-256(shared key)).
export async function delegatorSignature(pkcs8Bytes, sharedKeyBytes) {
    const hmacKey = await digest('SHA-512', pkcs8Bytes);
    const data = await digest('SHA-256', sharedKeyBytes);
    return hmacSha512(hmacKey, data);
}

// Plaintext of a secure-delegation value: "Cure" then the raw key bytes
// for encryptionKeys (given as hex), or "Cure" then the UTF-8 text for
// secretIds and owningEntityIds.
export function secureDelegationPlaintext(field, value) {
    const prefix = encoder.encode(SECURE_DELEGATION_PREFIX);
    if (field === 'encryptionKeys') {
        return concatBytes(prefix, fromHex(value));
    }
    if (field === 'secretIds' || field === 'owningEntityIds') {
        return concatBytes(prefix, encoder.encode(value));
    }
    throw new Error(`unknown secure-delegation field ${field}`);
}

export async function importAesKey(keyBytes, usages) {
    return subtle.importKey('raw', keyBytes, { name: 'AES-CBC' }, false,
        usages);
}

// Encrypts with PKCS#7 padding and returns IV || ciphertext, the layout of
// every AES blob in the format.
export async function aesCbcEncrypt(keyBytes, plain, iv = randomBytes(16)) {
    const key = await importAesKey(keyBytes, ['encrypt']);
    const ct = await subtle.encrypt({ name: 'AES-CBC', iv }, key, plain);
    return concatBytes(iv, new Uint8Array(ct));
}

export async function aesCbcDecrypt(keyBytes, blob) {
    const key = await importAesKey(keyBytes, ['decrypt']);
    const iv = blob.slice(0, 16);
    const pt = await subtle.decrypt({ name: 'AES-CBC', iv }, key,
        blob.slice(16));
    return new Uint8Array(pt);
}

const RSA_KEYS = [
    { id: 'oaep-sha1', hash: 'SHA-1' },
    { id: 'oaep-sha256', hash: 'SHA-256' },
];
const OAEP_LENGTHS = [1, 16, 32, 128];
const AES_LENGTHS = [0, 1, 15, 16, 17, 100];
const MESSAGE_LENGTHS = [0, 3, 64, 1000];
const ENTITY_TYPES = ['Patient', 'Contact', 'HealthElement', 'Service',
    'TimeTable', 'Topic'];

async function makeRsaKeys() {
    const keys = [];
    for (const { id, hash } of RSA_KEYS) {
        const pair = await subtle.generateKey({
            name: 'RSA-OAEP', modulusLength: 2048,
            publicExponent: RSA_EXPONENT, hash,
        }, true, ['encrypt', 'decrypt']);
        const pkcs8 = new Uint8Array(
            await subtle.exportKey('pkcs8', pair.privateKey));
        const spkiHex = toHex(await subtle.exportKey('spki', pair.publicKey));
        keys.push({
            id, oaep_hash: hash, bits: 2048, pkcs8: toHex(pkcs8),
            spki: spkiHex, fp_v1: fingerprintV1(spkiHex),
            fp_v2: fingerprintV2(spkiHex), publicKey: pair.publicKey,
            pkcs8Bytes: pkcs8,
        });
    }
    return keys;
}

async function makeOaepVectors(keys) {
    const out = [];
    for (const key of keys) {
        for (const length of OAEP_LENGTHS) {
            const plain = randomBytes(length);
            const ct = await subtle.encrypt({ name: 'RSA-OAEP' },
                key.publicKey, plain);
            out.push({ key: key.id, plain: toHex(plain), ct: toHex(ct) });
        }
    }
    return out;
}

async function makeAesVectors() {
    const out = [];
    for (const keyLength of [32, 16]) {
        for (const length of AES_LENGTHS) {
            const key = randomBytes(keyLength);
            const plain = randomBytes(length);
            const blob = await aesCbcEncrypt(key, plain);
            out.push({ key: toHex(key), plain: toHex(plain),
                blob: toHex(blob) });
        }
    }
    return out;
}

async function makeHmacAndHashVectors() {
    const hmac = [];
    const hash = [];
    for (const length of MESSAGE_LENGTHS) {
        const key = randomBytes(128);
        const msg = randomBytes(length);
        hmac.push({ key: toHex(key), msg: toHex(msg),
            tag: toHex(await hmacSha512(key, msg)) });
        for (const alg of ['SHA-256', 'SHA-512']) {
            hash.push({ alg, msg: toHex(msg),
                digest: toHex(await digest(alg, msg)) });
        }
    }
    return { hmac, hash };
}

async function makeAcKeyVectors() {
    const fixed = new Uint8Array(16).map((_, i) => i);
    const out = [];
    for (const secret of [fixed, randomBytes(16)]) {
        for (const type of ENTITY_TYPES) {
            const acKey = await accessControlKey(toHex(secret), type);
            out.push({ secret: toHex(secret), entity_type: type,
                ackey: toHex(acKey),
                sdkey: await secureDelegationKey(acKey) });
        }
    }
    return out;
}

async function sharedSignatureCase(delegator, delegate, fingerprints) {
    const exchangeKey = toHex(randomBytes(32));
    const secret = toHex(randomBytes(16));
    const key = randomBytes(128);
    const text = sharedSignatureText(delegator, delegate, exchangeKey,
        secret, fingerprints);
    return {
        delegator, delegate, exchange_key: exchangeKey,
        access_control_secret: secret, fingerprints, text, key: toHex(key),
        signature: toBase64(await hmacSha512(key, encoder.encode(text))),
    };
}

// Cases: the two generated keys given unsorted and with a duplicate, a
// self delegation with one key, no fingerprints at all, and inter-group
// references written "groupId/dataOwnerId".
async function makeSharedSignatureVectors(keys) {
    const [fpA, fpB] = keys.map((k) => k.fp_v2).sort().reverse();
    const self = webcrypto.randomUUID();
    return [
        await sharedSignatureCase(webcrypto.randomUUID(),
            webcrypto.randomUUID(), [fpA, fpB, fpA]),
        await sharedSignatureCase(self, self, [fpB]),
        await sharedSignatureCase(webcrypto.randomUUID(),
            webcrypto.randomUUID(), []),
        await sharedSignatureCase(`group-a/${webcrypto.randomUUID()}`,
            `group-b/${webcrypto.randomUUID()}`, [fpB, fpA]),
    ];
}

async function makeDelegatorSignatureVectors(keys) {
    const out = [];
    for (const key of keys) {
        const shared = randomBytes(128);
        const sig = await delegatorSignature(key.pkcs8Bytes, shared);
        out.push({ key: key.id, fp_v2: key.fp_v2,
            shared_signature_key: toHex(shared), signature: toBase64(sig) });
    }
    return out;
}

async function makeSecureDelegationVectors() {
    const exchangeKey = randomBytes(32);
    const values = [
        ['encryptionKeys', toHex(randomBytes(32))],
        ['encryptionKeys', toHex(randomBytes(16))],
        ['secretIds', webcrypto.randomUUID()],
        ['owningEntityIds', webcrypto.randomUUID()],
        ['owningEntityIds', `group-a/${webcrypto.randomUUID()}`],
    ];
    const out = [];
    for (const [field, value] of values) {
        const plain = secureDelegationPlaintext(field, value);
        const blob = await aesCbcEncrypt(exchangeKey, plain);
        out.push({ exchange_key: toHex(exchangeKey), field, value,
            blob: toBase64(blob) });
    }
    return out;
}

// One whole ExchangeData object: the three secrets encrypted for every
// key (each with its own OAEP hash) in maps keyed by fingerprint v2, the
// shared signature over them and one delegator signature per key. The
// plain secrets go beside it for the checker.
async function exchangeDataCase(keys, delegator, delegate) {
    const secrets = [randomBytes(32), randomBytes(16), randomBytes(128)];
    const data = { id: webcrypto.randomUUID(), delegator, delegate };
    for (const [i, name] of EXCHANGE_MAPS.entries()) {
        data[name] = {};
        for (const key of keys) {
            const ct = await subtle.encrypt({ name: 'RSA-OAEP' },
                key.publicKey, secrets[i]);
            data[name][key.fp_v2] = toBase64(new Uint8Array(ct));
        }
    }
    const text = sharedSignatureText(delegator, delegate, toHex(secrets[0]),
        toHex(secrets[1]), keys.map((k) => k.fp_v2));
    data.sharedSignature = toBase64(
        await hmacSha512(secrets[2], encoder.encode(text)));
    data.delegatorSignature = {};
    for (const key of keys) {
        data.delegatorSignature[key.fp_v2] = toBase64(
            await delegatorSignature(key.pkcs8Bytes, secrets[2]));
    }
    const ids = keys.map((k) => k.id);
    return {
        exchange_data: data, keys: { recipients: ids, signers: ids },
        exchange_key: toHex(secrets[0]),
        access_control_secret: toHex(secrets[1]),
        shared_signature_key: toHex(secrets[2]),
    };
}

async function makeExchangeDataVectors(keys) {
    const delegator = webcrypto.randomUUID();
    return [
        await exchangeDataCase(keys, delegator, webcrypto.randomUUID()),
        await exchangeDataCase(keys, delegator, delegator),
    ];
}

export async function makeVectors() {
    const keys = await makeRsaKeys();
    const { hmac, hash } = await makeHmacAndHashVectors();
    return {
        format: VECTOR_FORMAT,
        producer: `node ${process.version} webcrypto`,
        rsa_keys: keys.map(({ publicKey, pkcs8Bytes, ...entry }) => entry),
        rsa_oaep: await makeOaepVectors(keys),
        aes_cbc: await makeAesVectors(),
        hmac_sha512: hmac,
        hash,
        ackey: await makeAcKeyVectors(),
        shared_signature: await makeSharedSignatureVectors(keys),
        delegator_signature: await makeDelegatorSignatureVectors(keys),
        secure_delegation: await makeSecureDelegationVectors(),
        exchange_data: await makeExchangeDataVectors(keys),
    };
}

async function main(argv) {
    if (argv.length !== 1) {
        console.error('usage: node webcrypto_vectors.mjs OUT.json');
        return 2;
    }
    const vectors = await makeVectors();
    writeFileSync(argv[0], JSON.stringify(vectors, null, 1) + '\n',
        { mode: 0o600 });
    const count = Object.values(vectors)
        .filter(Array.isArray).reduce((n, list) => n + list.length, 0);
    console.log(`webcrypto_vectors: wrote ${count} vectors to ${argv[0]}`);
    return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
    process.exitCode = await main(process.argv.slice(2));
}
