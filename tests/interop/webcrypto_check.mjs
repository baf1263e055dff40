// SPDX-License-Identifier: Apache-2.0
//
// Checks a vector file written by Cardea (crosscheck write) with Node.js
// WebCrypto, the crypto layer of the official SDK's JavaScript build.
// Cardea's PKCS#8 and SPKI keys must import and export again byte for
// byte. Every ciphertext must decrypt to its plaintext and every MAC must
// verify. Every format-level value (acKey, sdKey, shared-signature text
// and HMAC, delegator signature, secure-delegation values, ExchangeData
// objects) must match what the helpers of webcrypto_vectors.mjs compute.
//
// Usage: node webcrypto_check.mjs IN.json
// Prints one line per case group, "cardea -> webcrypto: GROUP: N passed,
// M failed", and one line per failed case naming the check but never a
// key or plaintext. Exit status 0 when every case passed, 1 otherwise,
// 2 on a usage or file error.

import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
    EXCHANGE_MAPS, VECTOR_FORMAT, SECURE_DELEGATION_PREFIX, accessControlKey,
    aesCbcDecrypt, aesCbcEncrypt, delegatorSignature, digest,
    fingerprintV1, fingerprintV2, fromBase64, fromHex, hmacSha512,
    secureDelegationKey, secureDelegationPlaintext, sharedSignatureText,
    toBase64, toHex,
} from './webcrypto_vectors.mjs';

const subtle = webcrypto.subtle;
const encoder = new TextEncoder();
const DIRECTION = 'cardea -> webcrypto';
const SPKI_2048_PREFIX = '30820122300d06092a864886f70d01010105000382010f' +
    '003082010a0282010100';

function expect(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

function sameBytes(a, b) {
    return Buffer.from(a).equals(Buffer.from(b));
}

async function rejects(promise) {
    try {
        await promise;
    } catch {
        return true;
    }
    return false;
}

// Keys imported by the rsa_keys group, by vector key id, for the groups
// that run after it.
const rsaKeys = new Map();

async function importRsa(entry) {
    const algorithm = { name: 'RSA-OAEP', hash: entry.oaep_hash };
    const pkcs8 = fromHex(entry.pkcs8);
    const spki = fromHex(entry.spki);
    const privateKey = await subtle.importKey('pkcs8', pkcs8, algorithm,
        true, ['decrypt']);
    const publicKey = await subtle.importKey('spki', spki, algorithm, true,
        ['encrypt']);
    return { entry, privateKey, publicKey, pkcs8, spki };
}

async function checkRsaKey(entry) {
    expect(entry.oaep_hash === 'SHA-1' || entry.oaep_hash === 'SHA-256',
        `unknown OAEP hash ${entry.oaep_hash}`);
    const key = await importRsa(entry);
    const pkcs8Again = await subtle.exportKey('pkcs8', key.privateKey);
    expect(sameBytes(pkcs8Again, key.pkcs8),
        'PKCS#8 re-exported by WebCrypto differs from Cardea\'s bytes');
    const spkiAgain = await subtle.exportKey('spki', key.publicKey);
    expect(sameBytes(spkiAgain, key.spki),
        'SPKI re-exported by WebCrypto differs from Cardea\'s bytes');
    expect(entry.spki === entry.spki.toLowerCase(), 'SPKI hex not lowercase');
    expect(entry.spki.length === 588, 'SPKI hex is not 588 characters');
    expect(entry.spki.startsWith(SPKI_2048_PREFIX),
        'SPKI does not start as a 2048-bit RSA key');
    expect(entry.spki.endsWith('0203010001'),
        'SPKI does not end with exponent 65537');
    expect(key.privateKey.algorithm.modulusLength === 2048,
        'modulus length is not 2048');

    const privateJwk = await subtle.exportKey('jwk', key.privateKey);
    const publicJwk = await subtle.exportKey('jwk', key.publicKey);
    expect(privateJwk.n === publicJwk.n,
        'SPKI modulus differs from the PKCS#8 key\'s');
    expect(privateJwk.e === publicJwk.e,
        'SPKI exponent differs from the PKCS#8 key\'s');
    expect(publicJwk.e === 'AQAB', 'public exponent is not 65537');
    expect(entry.fp_v1 === fingerprintV1(entry.spki), 'fingerprint v1 differs');
    expect(entry.fp_v2 === fingerprintV2(entry.spki), 'fingerprint v2 differs');
    rsaKeys.set(entry.id, key);
}

function rsaKeyFor(id) {
    const key = rsaKeys.get(id);
    expect(key !== undefined, `RSA key ${id} missing or failed its own check`);
    return key;
}

async function checkOaep(entry) {
    const key = rsaKeyFor(entry.key);
    const plain = await subtle.decrypt({ name: 'RSA-OAEP' }, key.privateKey,
        fromHex(entry.ct));
    expect(sameBytes(plain, fromHex(entry.plain)),
        'OAEP plaintext differs');

    // The same ciphertext must not decrypt under the other OAEP hash, or
    // the vector would not show which hash Cardea used.
    const other = key.entry.oaep_hash === 'SHA-1' ? 'SHA-256' : 'SHA-1';
    const wrong = await subtle.importKey('pkcs8', key.pkcs8,
        { name: 'RSA-OAEP', hash: other }, false, ['decrypt']);
    expect(await rejects(subtle.decrypt({ name: 'RSA-OAEP' }, wrong,
        fromHex(entry.ct))), `ciphertext also decrypts with OAEP ${other}`);
}

async function checkAes(entry) {
    const key = fromHex(entry.key);
    const plain = fromHex(entry.plain);
    const blob = fromHex(entry.blob);
    const expectedLength = 16 + (Math.floor(plain.length / 16) + 1) * 16;
    expect(blob.length === expectedLength,
        `blob is ${blob.length} bytes, expected ${expectedLength}`);
    expect(sameBytes(await aesCbcDecrypt(key, blob), plain),
        'AES-CBC plaintext differs');
    const again = await aesCbcEncrypt(key, plain, blob.slice(0, 16));
    expect(sameBytes(again, blob),
        'WebCrypto ciphertext with Cardea\'s IV differs from Cardea\'s');

    // A wrong key usually fails the PKCS#7 check. When the padding
    // happens to look valid, the plaintext must still differ.
    const wrongKey = key.map((b) => b ^ 0x01);
    let wrongPlain = null;
    try {
        wrongPlain = await aesCbcDecrypt(wrongKey, blob);
    } catch {
        wrongPlain = null;
    }
    expect(wrongPlain === null || !sameBytes(wrongPlain, plain),
        'AES-CBC blob decrypts to the plaintext with a wrong key');
}

async function checkHmac(entry) {
    const key = fromHex(entry.key);
    const msg = fromHex(entry.msg);
    const tag = fromHex(entry.tag);
    expect(key.length === 128, `HMAC key is ${key.length} bytes, not 128`);
    expect(sameBytes(await hmacSha512(key, msg), tag), 'HMAC-SHA-512 differs');

    const cryptoKey = await subtle.importKey('raw', key,
        { name: 'HMAC', hash: 'SHA-512' }, false, ['verify']);
    expect(await subtle.verify('HMAC', cryptoKey, tag, msg),
        'HMAC-SHA-512 does not verify');
    const tampered = tag.slice();
    tampered[0] ^= 0x80;
    expect(!await subtle.verify('HMAC', cryptoKey, tampered, msg),
        'tampered HMAC-SHA-512 verifies');
}

async function checkHash(entry) {
    expect(entry.alg === 'SHA-256' || entry.alg === 'SHA-512',
        `unknown hash ${entry.alg}`);
    const result = await digest(entry.alg, fromHex(entry.msg));
    expect(toHex(result) === entry.digest, `${entry.alg} differs`);
}

async function checkAcKey(entry) {
    const acKey = await accessControlKey(entry.secret, entry.entity_type);
    expect(toHex(acKey) === entry.ackey, 'acKey differs');
    expect(await secureDelegationKey(acKey) === entry.sdkey, 'sdKey differs');
}

async function checkSharedSignature(entry) {
    const text = sharedSignatureText(entry.delegator, entry.delegate,
        entry.exchange_key, entry.access_control_secret, entry.fingerprints);
    expect(text === entry.text, 'shared-signature text differs');
    const key = fromHex(entry.key);
    expect(key.length === 128, `shared signature key is ${key.length} bytes`);
    const mac = await hmacSha512(key, encoder.encode(entry.text));
    expect(toBase64(mac) === entry.signature, 'shared signature differs');
}

// The HMAC key comes from the PKCS#8 bytes as WebCrypto exports them, so
// this also shows that both sides hash the same DER.
async function checkDelegatorSignature(entry) {
    const key = rsaKeyFor(entry.key);
    expect(entry.fp_v2 === key.entry.fp_v2, 'fingerprint v2 differs');
    const pkcs8 = await subtle.exportKey('pkcs8', key.privateKey);
    const sig = await delegatorSignature(new Uint8Array(pkcs8),
        fromHex(entry.shared_signature_key));
    expect(toBase64(sig) === entry.signature, 'delegator signature differs');

    const otherShared = fromHex(entry.shared_signature_key).map((b) => ~b);
    const other = await delegatorSignature(new Uint8Array(pkcs8), otherShared);
    expect(toBase64(other) !== entry.signature,
        'delegator signature does not depend on the shared key');
}

async function checkSecureDelegation(entry) {
    const key = fromHex(entry.exchange_key);
    const blob = fromBase64(entry.blob);
    const plain = await aesCbcDecrypt(key, blob);
    const prefix = encoder.encode(SECURE_DELEGATION_PREFIX);
    expect(sameBytes(plain.slice(0, 4), prefix), 'no "Cure" prefix');
    const expected = secureDelegationPlaintext(entry.field, entry.value);
    expect(sameBytes(plain, expected), 'secure-delegation value differs');
    const again = await aesCbcEncrypt(key, expected, blob.slice(0, 16));
    expect(sameBytes(again, blob),
        'WebCrypto blob with Cardea\'s IV differs from Cardea\'s');
}

// Every recipient key must decrypt the three secrets from the maps, and
// both signatures must be what the format defines over them.
async function checkExchangeData(entry) {
    const data = entry.exchange_data;
    const recipients = entry.keys.recipients.map(rsaKeyFor);
    const signers = entry.keys.signers.map(rsaKeyFor);
    const expected = [entry.exchange_key, entry.access_control_secret,
        entry.shared_signature_key];
    const fingerprints = new Set();
    expect(/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/.test(data.id),
        'id is not a lowercase UUID');
    for (const [i, name] of EXCHANGE_MAPS.entries()) {
        expect(data[name] instanceof Object, `${name} missing`);
        Object.keys(data[name]).forEach((fp) => fingerprints.add(fp));
        for (const key of recipients) {
            const ct = data[name][key.entry.fp_v2];
            expect(ct !== undefined, `${name} has no entry for a recipient`);
            const plain = await subtle.decrypt({ name: 'RSA-OAEP' },
                key.privateKey, fromBase64(ct));
            expect(toHex(plain) === expected[i], `${name} differs`);
        }
    }
    expect(fromHex(entry.exchange_key).length === 32,
        'exchange key is not 32 bytes');
    expect(fromHex(entry.access_control_secret).length === 16,
        'access-control secret is not 16 bytes');
    expect(fromHex(entry.shared_signature_key).length === 128,
        'shared signature key is not 128 bytes');

    const text = sharedSignatureText(data.delegator, data.delegate,
        entry.exchange_key, entry.access_control_secret, [...fingerprints]);
    const sharedKey = fromHex(entry.shared_signature_key);
    const mac = await hmacSha512(sharedKey, encoder.encode(text));
    expect(toBase64(mac) === data.sharedSignature, 'sharedSignature differs');
    for (const key of signers) {
        const pkcs8 = await subtle.exportKey('pkcs8', key.privateKey);
        const sig = await delegatorSignature(new Uint8Array(pkcs8), sharedKey);
        expect(data.delegatorSignature?.[key.entry.fp_v2] === toBase64(sig),
            'delegatorSignature differs');
    }
}

// Each group: the member of the vector file, how a case is labelled in
// the output, and its check. Groups are run in this order because the
// RSA groups need the keys imported by rsa_keys.
const GROUPS = [
    ['rsa_keys', () => 'rsa-keys-pkcs8-spki', checkRsaKey],
    ['rsa_oaep', (e) => `rsa-${e.key}`, checkOaep],
    ['aes_cbc', (e) => `aes-${e.key.length * 4}-cbc`, checkAes],
    ['hmac_sha512', () => 'hmac-sha512', checkHmac],
    ['hash', (e) => e.alg.toLowerCase(), checkHash],
    ['ackey', () => 'ackey-sdkey', checkAcKey],
    ['shared_signature', () => 'shared-signature', checkSharedSignature],
    ['delegator_signature', () => 'delegator-signature',
        checkDelegatorSignature],
    ['secure_delegation', () => 'secure-delegation', checkSecureDelegation],
    ['exchange_data', () => 'exchange-data', checkExchangeData],
];

async function runGroups(vectors) {
    const tally = new Map();
    const count = (label, ok) => {
        const t = tally.get(label) ?? { passed: 0, failed: 0 };
        ok ? t.passed++ : t.failed++;
        tally.set(label, t);
    };
    for (const [member, labelOf, check] of GROUPS) {
        const entries = vectors[member];
        if (!Array.isArray(entries) || entries.length === 0) {
            console.log(`FAIL ${DIRECTION}: ${member}: no vectors in file`);
            count(member, false);
            continue;
        }
        for (const [index, entry] of entries.entries()) {
            const label = labelOf(entry);
            try {
                await check(entry);
                count(label, true);
            } catch (err) {
                console.log(`FAIL ${DIRECTION}: ${label} #${index}: ` +
                    `${err.message}`);
                count(label, false);
            }
        }
    }
    return tally;
}

async function main(argv) {
    if (argv.length !== 1) {
        console.error('usage: node webcrypto_check.mjs IN.json');
        return 2;
    }
    let vectors;
    try {
        vectors = JSON.parse(readFileSync(argv[0], 'utf8'));
    } catch (err) {
        console.error(`webcrypto_check: cannot read ${argv[0]}: ` +
            err.message);
        return 2;
    }
    if (vectors.format !== VECTOR_FORMAT) {
        console.error(`webcrypto_check: ${argv[0]}: format is ` +
            `${vectors.format}, expected ${VECTOR_FORMAT}`);
        return 2;
    }

    const tally = await runGroups(vectors);
    let failed = 0;
    for (const [label, t] of tally) {
        console.log(`${DIRECTION}: ${label}: ${t.passed} passed, ` +
            `${t.failed} failed`);
        failed += t.failed;
    }
    return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
