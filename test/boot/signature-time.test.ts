// The signature's date against the firmware clock, and keys that may no longer sign, with
// keys and signatures made by GnuPG. A clock a day behind the signing machine is a clock
// problem, not tampering: /boot verifies and the user is told to set the clock. A clock far
// behind, a key expired when it signed, or a revoked key is refused, each saying which.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { readKeyring, SignatureError, verifyDetached } from "../../gpg/verify.ts";
import { inMemorySigner } from "../../gpg/sign.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { BootVerifyError, signBoot, verifyBoot } from "../../runtime/boot/index.ts";
import { makeBoot, makeGpgHome, type GpgHome } from "./support.ts";

const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
const data = Buffer.from("the signed lists\n");
let gpg: GpgHome;
const boots: string[] = [];

/** GnuPG as if its clock said `at` (seconds since the epoch). */
const at = (t: number) => ["--faked-system-time", `${t}!`];
const fingerprint = (uid: string) => gpg.gpg(["--with-colons", "--list-keys", uid]).toString().split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!;
const sign = (fpr: string, when?: number) => gpg.gpg([...(when ? at(when) : []), "--local-user", fpr, "--detach-sign"], data);
const publicKey = async (fpr: string) => readKeyring(gpg.gpg(["--armor", "--export", fpr]));

let expiring: string;
let revoked: string;
let signedWhileValid: Buffer;
let signedAfterExpiry: Buffer;

before(() => {
  gpg = makeGpgHome();
  // Made a month ago without expiry, it signs 27 and 20 days ago; then a self-signature dated 29
  // days ago gives it an expiry 24 days ago. (GnuPG will not sign with a key already expired.)
  gpg.gpg([...at(now - 30 * DAY), "--quick-gen-key", "Expiring <expiring@bootward.test>", "ed25519", "sign", "never"]);
  expiring = fingerprint("expiring@bootward.test");
  signedWhileValid = sign(expiring, now - 27 * DAY);
  signedAfterExpiry = sign(expiring, now - 20 * DAY);
  gpg.gpg([...at(now - 29 * DAY), "--quick-set-expire", expiring, "5d"]);
  gpg.gpg([...at(now - 30 * DAY), "--quick-gen-key", "Revoked <revoked@bootward.test>", "ed25519", "sign", "never"]);
  revoked = fingerprint("revoked@bootward.test");
});

after(() => {
  gpg.cleanup();
  for (const b of boots) rmSync(dirname(b), { recursive: true, force: true });
});

test("a signature dated a day after the clock verifies, judged at its own date, with a warning about the clock", async () => {
  const keys = await publicKey(gpg.owner);
  const clockBehind = new Date((now - DAY) * 1000);
  const v = await verifyDetached({ data, signature: sign(gpg.owner), keys, date: clockBehind });
  assert.equal(v.fingerprint, gpg.owner);
  assert.match(v.clockWarning ?? "", /^the signature is dated .*, 24 hours after this machine's clock \(.*\): the clock is behind; set it \(Options → Change system time\)$/);
  const onTime = await verifyDetached({ data, signature: sign(gpg.owner), keys });
  assert.equal(onTime.clockWarning, null, "a clock that is right warns about nothing");
});

test("a signature dated beyond the tolerance (a clock reset by a flat battery) is refused as a clock problem", async () => {
  const keys = await publicKey(gpg.owner);
  await assert.rejects(
    verifyDetached({ data, signature: sign(gpg.owner), keys, date: new Date((now - 10 * DAY) * 1000) }),
    (e: unknown) => e instanceof SignatureError && e.reason === "clock" && /10 days after this machine's clock .*set it/.test(e.message),
  );
});

test("a key expired when it signed is refused as expired; its signatures from before the expiry still verify", async () => {
  const keys = await publicKey(expiring);
  assert.equal((await verifyDetached({ data, signature: signedWhileValid, keys })).fingerprint, expiring);
  await assert.rejects(
    verifyDetached({ data, signature: signedAfterExpiry, keys }),
    (e: unknown) => e instanceof SignatureError && e.reason === "expired-key" && new RegExp(`signing key ${expiring} expired on .*, before it made this signature`).test(e.message),
  );
});

test("a revoked key is refused as revoked, its signature made before the revocation too", async () => {
  const signature = sign(revoked, now - 20 * DAY);
  assert.ok((await verifyDetached({ data, signature, keys: await publicKey(revoked) })).fingerprint === revoked, "the key verifies before it is revoked");
  // GnuPG keeps a revocation certificate for each new key, its armour disarmed by a leading ":".
  const revs = join(gpg.home, "openpgp-revocs.d");
  const cert = readFileSync(join(revs, readdirSync(revs).find((f) => f.startsWith(revoked))!), "utf8").replace(/^:-----BEGIN/m, "-----BEGIN");
  gpg.gpg(["--import"], cert);
  await assert.rejects(
    verifyDetached({ data, signature, keys: await publicKey(revoked) }),
    (e: unknown) => e instanceof SignatureError && e.reason === "revoked-key" && new RegExp(`signing key ${revoked} is revoked`).test(e.message),
  );
});

test("/boot signed by the owner boots with the firmware clock a day behind, and the verified boot carries the warning", async () => {
  const sys = createNodeSys();
  const boot = makeBoot();
  boots.push(boot);
  await signBoot(sys, { bootDir: boot, signer: await inMemorySigner(gpg.ownerSecret()) });
  const keys = await publicKey(gpg.owner);
  const v = await verifyBoot(sys, { bootDir: boot, keys, date: new Date((now - DAY) * 1000) });
  assert.match(v.clockWarning ?? "", /24 hours after this machine's clock/);
  await assert.rejects(verifyBoot(sys, { bootDir: boot, keys, date: new Date((now - 30 * DAY) * 1000) }), (e: unknown) => e instanceof BootVerifyError && e.check === "signature" && /\[clock\]$/.test(e.message));
});
