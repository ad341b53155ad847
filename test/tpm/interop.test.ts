// Interop with tpm2-tools 5.4 (the oracle), both ways, sealing the way Heads' tpmr does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { TpmPolicyError, type Tpm } from "../../tpm/index.ts";

let sw: Swtpm;
let dir: string;
const TOTP_PCRS = "sha256:0,1,2,3,4,7";
const OWNER = "owner secret";
const ownerHex = "hex:" + Buffer.from(OWNER).toString("hex");

const withTpm = <T>(f: (tpm: Tpm) => Promise<T>) => sw.withTpm(f);

const tool = (...argv: string[]) => sw.tool(argv);
const f = (name: string) => join(dir, name);

before(async () => {
  sw = await startSwtpm("2.0");
  dir = mkdtempSync(join(tmpdir(), "bootward-interop-"));
  await withTpm(async (tpm) => {
    await tpm.extend(0, "firmware");
    await tpm.extend(7, "/.gnupg/pubring.kbx");
  });
});

after(async () => {
  await tool("tpm2_flushcontext", "-t").catch(() => undefined);
  await sw.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** tpmr seal (TPM2 branch): trial PolicyPCR, create under 0x81000000, load, evictcontrol. */
async function toolsSeal(secret: Uint8Array, handle: string): Promise<void> {
  writeFileSync(f("secret"), secret);
  await tool("tpm2_pcrread", "-Q", "-o", f("pcrs.bin"), TOTP_PCRS);
  await tool("tpm2_startauthsession", "-Q", "-S", f("trial.ctx"));
  await tool("tpm2_policypcr", "-Q", "-l", TOTP_PCRS, "-f", f("pcrs.bin"), "-S", f("trial.ctx"), "-L", f("policy.dat"));
  await tool("tpm2_flushcontext", "-Q", f("trial.ctx"));
  await tool("tpm2_create", "-Q", "-C", "0x81000000", "-i", f("secret"), "-u", f("sealed.pub"), "-r", f("sealed.priv"), "-L", f("policy.dat"), "-a", "fixedtpm|fixedparent|adminwithpolicy");
  await tool("tpm2_load", "-Q", "-C", "0x81000000", "-u", f("sealed.pub"), "-r", f("sealed.priv"), "-c", f("sealed.ctx"));
  await tool("tpm2_evictcontrol", "-Q", "-C", "o", "-P", ownerHex, "-c", f("sealed.ctx"), handle);
  await tool("tpm2_flushcontext", "-t");
}

async function toolsUnseal(handle: string): Promise<Buffer> {
  await tool("tpm2_startauthsession", "-Q", "--policy-session", "-S", f("session.ctx"));
  try {
    await tool("tpm2_policypcr", "-Q", "-l", TOTP_PCRS, "-S", f("session.ctx"));
    return (await tool("tpm2_unseal", "-p", "session:" + f("session.ctx"), "-c", handle)).stdout;
  } finally {
    await tool("tpm2_flushcontext", "-Q", f("session.ctx")).catch(() => undefined);
  }
}

for (const kind of ["rsa", "ecc"] as const) {
  test(`tpm2-tools seals as Heads does under a ${kind} SRK; bootward unseals it`, async () => {
    await tool("tpm2_clear", "-c", "p");
    await tool("tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256", "-G", kind, "-c", f("primary.ctx"));
    await tool("tpm2_evictcontrol", "-Q", "-C", "o", "-c", f("primary.ctx"), "0x81000000");
    await tool("tpm2_changeauth", "-c", "o", OWNER);
    await tool("tpm2_flushcontext", "-t");
    const secret = Buffer.from("12345678901234567890");
    await toolsSeal(secret, "0x81004d47");
    const got = await withTpm((tpm) => tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] }));
    assert.deepEqual(Buffer.from(got), secret);
    // and the policy is enforced for the tools-made object too
    await withTpm((tpm) => tpm.extend(4, "recovery"));
    await assert.rejects(withTpm((tpm) => tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] })), TpmPolicyError);
  });
}

test("bootward resets and seals; tpm2_unseal with a PolicyPCR session unseals it", async () => {
  await withTpm((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
  const secret = Buffer.from("abcdefghijklmnopqrst");
  await withTpm((tpm) => tpm.seal(secret, { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7], ownerPassphrase: OWNER }));
  assert.deepEqual(await toolsUnseal("0x81004d47"), secret);
  // the object is what Heads makes: no userWithAuth, adminWithPolicy
  const pub = (await tool("tpm2_readpublic", "-c", "0x81004d47")).stdout.toString();
  assert.match(pub, /fixedtpm\|fixedparent\|adminwithpolicy/);
  assert.doesNotMatch(pub, /userwithauth/);
  await withTpm((tpm) => tpm.extend(7, "changed"));
  await assert.rejects(toolsUnseal("0x81004d47"), /failed/);
});

test("counters agree with tpm2_nvread both ways", async () => {
  const id = await withTpm(async (tpm) => {
    const id = await tpm.counterCreate({ ownerPassphrase: OWNER });
    for (let i = 0; i < 3; i++) await tpm.counterIncrement(id);
    return id;
  });
  const hex = "0x" + id.toString(16);
  const raw = (await tool("tpm2_nvread", "-C", hex, "-s", "8", hex)).stdout;
  const ours = await withTpm((tpm) => tpm.counterRead(id));
  assert.equal(raw.readBigUInt64BE(0), ours);
  const pub = (await tool("tpm2_nvreadpublic", hex)).stdout.toString();
  assert.match(pub, /ownerread/);
  assert.match(pub, /authread/);
  assert.match(pub, /authwrite/);
  assert.match(pub, /nt=0x1|counter/i);
  // noDA: readable during dictionary-attack lockout (its authorization is empty anyway)
  assert.match(pub, /no_da/);

  // a counter tpm2-tools defines the way Heads' tpmr counter_create does
  const other = "0x01234567";
  await tool("tpm2_nvdefine", "-C", "o", "-P", ownerHex, "-s", "8", "-a", "ownerread|authread|authwrite|nt=1", other);
  await tool("tpm2_nvincrement", "-C", other, other);
  await tool("tpm2_nvincrement", "-C", other, other);
  const theirs = (await tool("tpm2_nvread", "-C", other, "-s", "8", other)).stdout.readBigUInt64BE(0);
  assert.equal(await withTpm((tpm) => tpm.counterRead(0x01234567)), theirs);
  assert.equal(await withTpm((tpm) => tpm.counterIncrement(0x01234567)), theirs + 1n);
});

test("a passphrase-sealed object from tpm2-tools (PolicyPCR + PolicyAuthValue) unseals with bootward", async () => {
  writeFileSync(f("secret2"), "disk unlock key bytes");
  await tool("tpm2_pcrread", "-Q", "-o", f("pcrs2.bin"), "sha256:0,1,2,3");
  await tool("tpm2_startauthsession", "-Q", "-S", f("trial2.ctx"));
  await tool("tpm2_policypcr", "-Q", "-l", "sha256:0,1,2,3", "-f", f("pcrs2.bin"), "-S", f("trial2.ctx"));
  await tool("tpm2_policyauthvalue", "-Q", "-S", f("trial2.ctx"), "-L", f("policy2.dat"));
  await tool("tpm2_flushcontext", "-Q", f("trial2.ctx"));
  await tool("tpm2_create", "-Q", "-C", "0x81000000", "-i", f("secret2"), "-p", "hex:" + Buffer.from("luks pass").toString("hex"), "-u", f("s2.pub"), "-r", f("s2.priv"), "-L", f("policy2.dat"), "-a", "fixedtpm|fixedparent|adminwithpolicy");
  await tool("tpm2_load", "-Q", "-C", "0x81000000", "-u", f("s2.pub"), "-r", f("s2.priv"), "-c", f("s2.ctx"));
  await tool("tpm2_evictcontrol", "-Q", "-C", "o", "-P", ownerHex, "-c", f("s2.ctx"), "0x81000003");
  await tool("tpm2_flushcontext", "-t");
  const got = await withTpm((tpm) => tpm.unseal({ handle: 3, pcrs: [0, 1, 2, 3], passphrase: "luks pass" }));
  assert.equal(Buffer.from(got).toString(), readFileSync(f("secret2"), "utf8"));
  await assert.rejects(withTpm((tpm) => tpm.unseal({ handle: 3, pcrs: [0, 1, 2, 3], passphrase: "nope" })), (e: unknown) => e instanceof TpmPolicyError && e.reason === "passphrase");
});
