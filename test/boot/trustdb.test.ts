// trustdb.gpg as Heads keeps it in the ROM next to the owner's public key. Real GnuPG is the
// oracle: the file equals the one gpg writes itself after `--import-ownertrust` and a trustdb
// check; with it gpg lists the key as ultimately valid, verifies its signatures as ultimate and
// sees no reason to rebuild; a file for another key, a stale one or a damaged one does not pass.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { generateSigningKey } from "../../gpg/keygen.ts";
import { signerOf, type Signer } from "../../gpg/sign.ts";
import { TrustDbError, ultimateTrustDb, type TrustedKey } from "../../gpg/trustdb.ts";
import { toolPath } from "../../initrd/host-tools.ts";

const GPG = toolPath("gpg");
const CREATED = 1_700_000_000;

interface Key {
  fingerprint: string;
  pubring: Uint8Array;
  trusted: TrustedKey;
  signer: Signer;
}

// The owner's key as bootward makes it (a non-ASCII name to show the user ID is hashed as
// UTF-8), Heads' default RSA 3072, and a key with two user IDs and an expiry.
const KINDS = ["ed25519", "rsa3072", "two user IDs, expiring"] as const;
type Kind = (typeof KINDS)[number];
const keys = new Map<Kind, Key>();
let stranger: Key;
let scratch: string;
let homes = 0;

async function keyOf(pubring: Uint8Array, signer: Signer): Promise<Key> {
  const parsed = await openpgp.readKey({ binaryKey: pubring });
  const expiry = await parsed.getExpirationTime();
  return {
    fingerprint: parsed.getFingerprint().toUpperCase(),
    pubring,
    trusted: {
      fingerprint: Buffer.from(parsed.getFingerprint(), "hex"),
      userIds: parsed.users.map((u) => u.userID!.userID),
      nextCheck: expiry instanceof Date ? expiry.getTime() / 1000 : 0,
    },
    signer,
  };
}

async function expiringTwoUserIdKey(): Promise<Key> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "First", email: "first@bootward.test" }, { name: "Second", email: "second@bootward.test" }],
    keyExpirationTime: 365 * 86400,
    format: "object",
    config: { v6Keys: false },
  });
  return keyOf(publicKey.write(), signerOf(privateKey));
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "bootward-trustdb-"));
  const made = async (algorithm: "ed25519" | "rsa3072", name: string) => {
    const k = await generateSigningKey({ name, email: "owner@bootward.test", comment: "bootward" }, algorithm);
    return keyOf(k.binaryPublic, k.signer);
  };
  keys.set("ed25519", await made("ed25519", "Jürgen Ünïcode"));
  keys.set("rsa3072", await made("rsa3072", "Heads Owner"));
  keys.set("two user IDs, expiring", await expiringTwoUserIdKey());
  stranger = await made("ed25519", "Stranger");
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh GnuPG home (mode 0700, as gpg wants) holding pubring.gpg and, when given, trustdb.gpg. */
function home(pubring: Uint8Array, trustdb?: Uint8Array): string {
  const dir = join(scratch, `home-${homes++}`);
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, "pubring.gpg"), pubring);
  if (trustdb) writeFileSync(join(dir, "trustdb.gpg"), trustdb);
  return dir;
}

/** gpg in batch mode on a temp home, no agent started, English messages. */
function gpg(dir: string, args: string[], input?: string) {
  const r = spawnSync(GPG, ["--homedir", dir, "--batch", "--no-tty", "--no-autostart", ...args], {
    input,
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C", LANGUAGE: "C" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const trustdbOf = (dir: string) => readFileSync(join(dir, "trustdb.gpg"));

/** The colon listing's validity (field 2) of the pub and uid lines, the ownertrust (field 9), and the tru line. */
function listing(dir: string) {
  const r = gpg(dir, ["--with-colons", "--list-keys"]);
  const rows = r.stdout.split("\n").map((l) => l.split(":"));
  return {
    ...r,
    tru: rows.find((f) => f[0] === "tru"),
    pub: rows.filter((f) => f[0] === "pub").map((f) => ({ validity: f[1], ownertrust: f[8] })),
    uids: rows.filter((f) => f[0] === "uid").map((f) => ({ validity: f[1], name: f[9] })),
  };
}

// What gpg says when it finds its trust information out of date or missing.
const REBUILD = /checking the trustdb|no ultimately trusted keys|please do a --check-trustdb|trustdb/i;

/** The file GnuPG itself makes for the key: Heads' steps, `--import-ownertrust FPR:6:` then a trustdb check. */
function gnupgsOwn(key: Key): Buffer {
  const dir = home(key.pubring);
  assert.equal(gpg(dir, ["--import-ownertrust"], `${key.fingerprint}:6:\n`).status, 0);
  const check = gpg(dir, ["--check-trustdb"]);
  assert.equal(check.status, 0, check.stderr);
  // gpg validated the key (it did not just take the ownertrust) and stamped the file with the time.
  assert.match(check.stderr, /depth: 0 +valid: +1 .*1u/);
  return trustdbOf(dir);
}

for (const kind of KINDS) {
  test(`${kind}: the file is byte for byte the one gpg writes after --import-ownertrust and a check`, () => {
    const key = keys.get(kind)!;
    const own = gnupgsOwn(key);
    const created = own.readUInt32BE(12);
    assert.ok(created > 0);
    assert.deepEqual(Buffer.from(ultimateTrustDb(key.trusted, created)), own);
  });

  test(`${kind}: gpg lists the key and every user ID as ultimate and does not rebuild the trustdb`, () => {
    const key = keys.get(kind)!;
    const db = ultimateTrustDb(key.trusted, CREATED);
    const dir = home(key.pubring, db);
    const l = listing(dir);
    assert.equal(l.status, 0, l.stderr);
    assert.deepEqual(l.pub, [{ validity: "u", ownertrust: "u" }]);
    assert.equal(l.uids.length, key.trusted.userIds.length);
    for (const uid of l.uids) assert.equal(uid.validity, "u", `user ID ${uid.name}`);
    // tru: not stale (field 2 empty), PGP model, our check times, gpg's default thresholds.
    assert.deepEqual(l.tru, ["tru", "", "1", String(CREATED), String(key.trusted.nextCheck), "3", "1", "5"]);
    assert.doesNotMatch(l.stderr, REBUILD);

    const exported = gpg(dir, ["--export-ownertrust"]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.deepEqual(exported.stdout.split("\n").filter((line) => line !== "" && !line.startsWith("#")), [`${key.fingerprint}:6:`]);

    const check = gpg(dir, ["--check-trustdb"]);
    assert.equal(check.status, 0, check.stderr);
    // Nothing to do: no check is due (never, or at the key's expiry).
    assert.match(check.stderr, key.trusted.nextCheck === 0 ? /no need for a trustdb check/ : /next trustdb check due at/);
    assert.doesNotMatch(check.stderr, /checking the trustdb|error|corrupt/i);
    assert.deepEqual(trustdbOf(dir), Buffer.from(db), "gpg rewrote the trustdb");
  });
}

test("a signature by the key verifies with ultimate trust and no 'not certified' warning", async () => {
  const key = keys.get("ed25519")!;
  const dir = home(key.pubring, ultimateTrustDb(key.trusted, CREATED));
  const data = join(dir, "kexec_hashes.txt");
  writeFileSync(data, "0123  ./vmlinuz\n");
  writeFileSync(`${data}.asc`, await key.signer.signDetached(readFileSync(data)));
  const r = gpg(dir, ["--status-fd", "1", "--verify", `${data}.asc`, data]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\[GNUPG:\] GOODSIG /m);
  assert.match(r.stdout, /^\[GNUPG:\] TRUST_ULTIMATE/m);
  assert.doesNotMatch(r.stderr, /not certified with a trusted signature|checking the trustdb/);
});

test("a trustdb made for another key leaves the owner's key unknown and its signatures untrusted", async () => {
  const key = keys.get("ed25519")!;
  const dir = home(key.pubring, ultimateTrustDb(stranger.trusted, CREATED));
  const l = listing(dir);
  assert.equal(l.status, 0, l.stderr);
  assert.notEqual(l.pub[0]?.validity, "u");
  assert.notEqual(l.pub[0]?.ownertrust, "u");
  assert.ok(l.uids.every((u) => u.validity !== "u"));
  assert.doesNotMatch(gpg(dir, ["--export-ownertrust"]).stdout, new RegExp(key.fingerprint));

  const data = join(dir, "data");
  writeFileSync(data, "x");
  writeFileSync(`${data}.asc`, await key.signer.signDetached(readFileSync(data)));
  const r = gpg(dir, ["--status-fd", "1", "--verify", `${data}.asc`, data]);
  assert.doesNotMatch(r.stdout, /TRUST_ULTIMATE|TRUST_FULLY/);
  assert.match(r.stderr, /not certified with a trusted signature/);
});

test("a file whose next check is already due makes gpg check the trustdb (the rebuild is detectable)", () => {
  const key = keys.get("ed25519")!;
  const db = ultimateTrustDb({ ...key.trusted, nextCheck: 1 }, CREATED);
  const dir = home(key.pubring, db);
  const l = listing(dir);
  assert.match(l.stderr, REBUILD);
  assert.match(l.stderr, /checking the trustdb/);
  assert.notDeepEqual(trustdbOf(dir), Buffer.from(db), "the check rewrites the file");
});

test("damaged files are refused by gpg", () => {
  const key = keys.get("ed25519")!;
  const good = Buffer.from(ultimateTrustDb(key.trusted, CREATED));
  const withByte = (offset: number, value: number) => {
    const b = Buffer.from(good);
    b[offset] = value;
    return b;
  };
  const damaged: [string, Buffer][] = [
    ["cut inside the hash table", good.subarray(0, 1000)],
    ["cut inside the validity record", good.subarray(0, good.length - 20)],
    ["wrong magic", withByte(1, 0x78)],
    // doc/DETAILS names version 2; gpg 2.2 wants 3.
    ["version 2", withByte(4, 2)],
  ];
  for (const [what, bytes] of damaged) {
    const l = listing(home(key.pubring, bytes));
    assert.notEqual(l.status, 0, `${what}: gpg accepted it`);
    assert.match(l.stderr, /trustdb/i, what);
    assert.ok(!l.pub.some((p) => p.validity === "u"), what);
  }
});

test("bad input is refused with a TrustDbError", () => {
  const key = keys.get("ed25519")!.trusted;
  const refused = (k: TrustedKey, created: number, pattern: RegExp) =>
    assert.throws(() => ultimateTrustDb(k, created), (e: unknown) => e instanceof TrustDbError && pattern.test(e.message));
  for (const length of [0, 16, 19, 21, 32]) refused({ ...key, fingerprint: new Uint8Array(length) }, CREATED, new RegExp(`is ${length} bytes`));
  refused({ ...key, userIds: [] }, CREATED, /no user ID/);
  for (const created of [-1, 1.5, 2 ** 32, Number.NaN]) refused(key, created, /creation time/);
  refused({ ...key, nextCheck: -5 }, CREATED, /next check/);
});
