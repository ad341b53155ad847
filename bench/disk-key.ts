// "d" → kexec -e, with the disk unlock key and without (TOTP only), on swtpm with 0 and 30 ms
// per TPM command: wall time and TPM commands. What the Default boot runs after the key
// press, minus the screens (they wait for the user): verify /boot; with the key, measure the
// LUKS headers into PCR 6 and compare, unseal with the passphrase; plan; copy and check the
// files; with the key, append it to the initrd copy; extend PCR 4; load; wipe; finalize; jump.
// kexec is a stand-in on PATH (loading succeeds, -e returns), since a host cannot jump.
// The TOTP was unsealed at startup for the header, so neither path counts it.
// `npx tsx bench/disk-key.ts`
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createNodeSys } from "../runtime/host/node/sys.ts";
import { SwtpmTransport } from "../runtime/host/node/swtpm-transport.ts";
import { openTpm, type Tpm } from "../tpm/index.ts";
import { RecordingTransport } from "../tpm/transport/recorder.ts";
import { readKeyring } from "../gpg/verify.ts";
import { inMemorySigner } from "../gpg/sign.ts";
import { executePlan, KexecError, plan, signBoot, verifyBoot } from "../runtime/boot/index.ts";
import { addKey, luksInfo } from "../runtime/platform/luks.ts";
import { luksHeaderText } from "../runtime/disk/headers.ts";
import { DISK_KEY_BYTES, DISK_KEY_SLOT, unsealDiskKey } from "../runtime/disk/key.ts";
import { sealDiskKey } from "../runtime/disk/setup.ts";
import { diskKeyConfig, formatKeyDevices, HEADER_HASH_FILE, KEY_DEVICES_FILE } from "../runtime/disk/config.ts";
import { keyedInitrd, measureKeyDevices } from "../runtime/disk/insert.ts";
import { makeBoot, makeGpgHome } from "../test/boot/support.ts";
import { makeLuksImage } from "../test/support/luks.ts";
import { startSwtpm } from "../test/support/swtpm.ts";

const OWNER = "owner passphrase";
const RECOVERY = "disk recovery passphrase";
const PASSPHRASE = new TextEncoder().encode("disk unlock passphrase");
const RUNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sys = createNodeSys();
const work = mkdtempSync(join(tmpdir(), "bootward-bench-duk-"));
const fakeBin = join(work, "bin");
mkdirSync(fakeBin);
writeFileSync(join(fakeBin, "kexec"), '#!/bin/sh\n[ "$1" = "-e" ] && exit 1\nexit 0\n');
chmodSync(join(fakeBin, "kexec"), 0o755);
process.env.PATH = `${fakeBin}:${process.env.PATH}`;

const gpg = makeGpgHome();
const sw = await startSwtpm("2.0");
try {
  const image = makeLuksImage(join(work, "disk.img"), 2, RECOVERY);
  const keyFile = join(work, "key");
  const key = sys.randomBytes(DISK_KEY_BYTES);
  writeFileSync(keyFile, key);
  await addKey(sys, image, new TextEncoder().encode(RECOVERY), keyFile, DISK_KEY_SLOT[2]);
  rmSync(keyFile);
  const headers = await luksHeaderText(sys, [image], work);
  await sw.withTpm(async (t) => {
    await t.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" });
    await sealDiskKey(t, sys, key, PASSPHRASE, headers, { log: null, ownerPassphrase: new TextEncoder().encode(OWNER) });
  });
  key.fill(0);

  const fixture = makeBoot();
  const plainBoot = join(work, "boot-totp");
  const keyBoot = join(work, "boot-duk");
  cpSync(fixture, plainBoot, { recursive: true });
  cpSync(fixture, keyBoot, { recursive: true });
  rmSync(dirname(fixture), { recursive: true, force: true });
  writeFileSync(join(keyBoot, KEY_DEVICES_FILE), formatKeyDevices([{ device: image, uuid: (await luksInfo(sys, image)).uuid }]));
  writeFileSync(join(keyBoot, HEADER_HASH_FILE), headers);
  const signer = await inMemorySigner(gpg.ownerSecret());
  for (const bootDir of [plainBoot, keyBoot]) await signBoot(sys, { bootDir, signer, defaultIndex: 1 });
  signer.forget();
  const keys = await readKeyring(gpg.ownerPublic());

  /** One "d" → kexec -e after a fresh power-on (PCRs 4 and 6 back at their reset values). */
  async function once(withKey: boolean, latencyMs: number): Promise<{ ms: number; commands: string[] }> {
    execFileSync("swtpm_ioctl", ["--tcp", `127.0.0.1:${sw.ctrlPort}`, "-i"]);
    const rec = new RecordingTransport(new SwtpmTransport(sw.port));
    const tpm: Tpm = await openTpm(rec);
    const secretDir = mkdtempSync(join(work, "secret-"));
    rec.reset();
    rec.latencyMs = latencyMs;
    const start = performance.now();
    try {
      const v = await verifyBoot(sys, { bootDir: withKey ? keyBoot : plainBoot, keys });
      let insertKey: ((initrd: string) => Promise<string>) | undefined;
      if (withKey) {
        const config = diskKeyConfig(v)!;
        await measureKeyDevices(sys, tpm, config, secretDir);
        const released = await unsealDiskKey(tpm, sys, PASSPHRASE, { log: null });
        insertKey = (initrd) => keyedInitrd(sys, initrd, secretDir, released, config).finally(() => released.fill(0));
      }
      const p = plan(sys, v, {}, 1, join(secretDir, "stage"));
      await executePlan(sys, p, tpm, { wipeSecrets: () => rmSync(secretDir, { recursive: true, force: true }), ...(insertKey ? { insertKey } : {}) });
    } catch (error) {
      // The stand-in's -e returns: the only way this path may end on a host.
      if (!(error instanceof KexecError && /kexec -e returned/.test(error.message))) throw error;
    } finally {
      tpm.close();
      rmSync(secretDir, { recursive: true, force: true });
    }
    return { ms: performance.now() - start, commands: rec.names() };
  }

  console.log(`"d" → kexec -e (swtpm 2.0, median of ${RUNS}; screens left out)`);
  console.log("path".padEnd(26), "cmds", "   0 ms/cmd", "  30 ms/cmd");
  for (const [name, withKey] of [["TOTP only", false], ["with the disk unlock key", true]] as const) {
    const runs = async (latency: number) => {
      const r = [];
      for (let i = 0; i < RUNS; i++) r.push(await once(withKey, latency));
      return r;
    };
    const fast = await runs(0);
    const slow = await runs(30);
    console.log(name.padEnd(26), String(fast[0]!.commands.length).padStart(4), `${median(fast.map((r) => r.ms)).toFixed(0).padStart(8)} ms`, `${median(slow.map((r) => r.ms)).toFixed(0).padStart(8)} ms`, ` ${fast[0]!.commands.join(" ")}`);
  }
} finally {
  await sw.stop();
  gpg.cleanup();
  rmSync(work, { recursive: true, force: true });
}
