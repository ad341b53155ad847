// `bootward disk …`: the disk unlock key from a shell (DESIGN.md "The command line"), over the
// same modules the menus use. --devices takes block devices or, for tests, LUKS image files.
import { readPassphraseFile, UsageError, type CommandContext } from "./context.ts";
import { openTpmDevice } from "../platform/tpm-device.ts";
import type { Tpm } from "../../tpm/index.ts";
import { TpmError } from "../../tpm/errors.ts";
import { LuksError } from "../platform/luks.ts";
import { LvmError } from "../platform/lvm.ts";
import { measureLuksHeaders } from "../disk/headers.ts";
import { DISK_KEY_PASSPHRASE_MIN, DiskKeyUnsealError, unsealDiskKey } from "../disk/key.ts";
import { buildKeyInitrd, formatOverrides, initrdCrypttabOverrides, KeyInitrdError, overridesFor, type KeyDevice } from "../disk/key-initrd.ts";
import { OsInitrdError } from "../disk/os-initrd.ts";
import { CRYPTTAB_OVERRIDES_FILE, KEY_DEVICES_FILE, parseKeyDevices } from "../disk/config.ts";
import { DiskSetupError, OccupiedSlotsError, planSetup, setUpDiskKey, type DiskSetup } from "../disk/setup.ts";
import { readEventLog } from "../sealing/eventlog.ts";
import { SECRET_DIR, wipeSecretDir } from "../platform/secrets.ts";

const USAGE = `usage: bootward disk seal --devices DEV[,DEV…] [--volume-group VG] [--os-initrd FILE] --drk-passphrase-file F --passphrase-file F [--owner-passphrase-file F] [--wipe-occupied yes]
       bootward disk unseal --passphrase-file F --out FILE
       bootward disk initrd OS_INITRD OUT --passphrase-file F
       bootward disk measure [--devices DEV[,DEV…]]
       bootward disk crypttab OS_INITRD`;

function parse(args: string[], allowed: string[]): { positional: string[]; values: Map<string, string> } {
  const positional: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) positional.push(a);
    else if (!allowed.includes(a)) throw new UsageError(`unknown option ${a}\n${USAGE}`);
    else if (values.has(a)) throw new UsageError(`${a} given twice`);
    else values.set(a, args[++i] ?? (() => { throw new UsageError(`${a} needs a value`); })());
  }
  return { positional, values };
}

const need = (v: Map<string, string>, flag: string) => v.get(flag) ?? (() => { throw new UsageError(`${flag} is required\n${USAGE}`); })();

export async function diskCommand(args: string[], ctx: CommandContext): Promise<number> {
  const [action, ...rest] = args;
  const boot = ctx.options.boot ?? "/boot";
  const readSecret = (file: string) => readPassphraseFile(ctx, file);
  const devicesFrom = (list: string | undefined): KeyDevice[] | string[] =>
    list !== undefined ? list.split(",").filter((d) => d !== "") : parseKeyDevices(ctx.sys.readText(`${boot}/${KEY_DEVICES_FILE}`));
  const paths = (d: KeyDevice[] | string[]) => d.map((x) => (typeof x === "string" ? x : x.device));
  const withTpm = async <T>(use: (tpm: Tpm) => Promise<T>): Promise<T> => {
    const tpm = await openTpmDevice(ctx.sys, ctx.options.tpm);
    try {
      return await use(tpm);
    } finally {
      tpm.close();
    }
  };
  try {
    if (action === "measure") {
      const p = parse(rest, ["--devices"]);
      const devices = paths(devicesFrom(p.values.get("--devices")));
      const text = await withTpm((tpm) => measureLuksHeaders(ctx.sys, tpm, devices, SECRET_DIR));
      ctx.out(text.trimEnd());
      return 0;
    }
    if (action === "crypttab") {
      // What a setup with this initrd as the default entry's would write to kexec_initrd_crypttab_overrides.txt.
      const p = parse(rest, []);
      if (p.positional.length !== 1) throw new UsageError(`disk crypttab needs OS_INITRD\n${USAGE}`);
      const overrides = await initrdCrypttabOverrides(ctx.sys, p.positional[0]!);
      ctx.out(overrides.length === 0 ? "no crypttab in this initrd: the boot would write Heads' generic lines (luks-<UUID> … /secret.key luks,discard)" : formatOverrides(overrides).trimEnd());
      return 0;
    }
    if (action === "unseal") {
      const p = parse(rest, ["--passphrase-file", "--out"]);
      const out = need(p.values, "--out");
      const passphrase = readSecret(need(p.values, "--passphrase-file"));
      const key = await withTpm((tpm) => unsealDiskKey(tpm, ctx.sys, passphrase)).finally(() => passphrase.fill(0));
      ctx.sys.writeFile(out, key, 0o400);
      key.fill(0);
      return 0;
    }
    if (action === "initrd") {
      const p = parse(rest, ["--passphrase-file"]);
      if (p.positional.length !== 2) throw new UsageError(`disk initrd needs OS_INITRD and OUT\n${USAGE}`);
      const devices = parseKeyDevices(ctx.sys.readText(`${boot}/${KEY_DEVICES_FILE}`));
      const passphrase = readSecret(need(p.values, "--passphrase-file"));
      const key = await withTpm((tpm) => unsealDiskKey(tpm, ctx.sys, passphrase)).finally(() => passphrase.fill(0));
      try {
        const overridesFile = `${boot}/${CRYPTTAB_OVERRIDES_FILE}`;
        const overrides = overridesFor(ctx.sys.stat(overridesFile) ? ctx.sys.readText(overridesFile) : undefined, devices);
        await buildKeyInitrd(ctx.sys, p.positional[0]!, p.positional[1]!, key, overrides);
      } finally {
        key.fill(0);
      }
      return 0;
    }
    if (action === "seal") {
      const p = parse(rest, ["--devices", "--volume-group", "--os-initrd", "--drk-passphrase-file", "--passphrase-file", "--owner-passphrase-file", "--wipe-occupied"]);
      const devices = paths(devicesFrom(need(p.values, "--devices")));
      const drk = readSecret(need(p.values, "--drk-passphrase-file"));
      const passphrase = readSecret(need(p.values, "--passphrase-file"));
      const owner = p.values.has("--owner-passphrase-file") ? readSecret(p.values.get("--owner-passphrase-file")!) : undefined;
      try {
        if (passphrase.length < DISK_KEY_PASSPHRASE_MIN) throw new UsageError(`the disk unlock key passphrase needs at least ${DISK_KEY_PASSPHRASE_MIN} characters`);
        const setup: DiskSetup = { devices, recovery: drk, passphrase, secretDir: SECRET_DIR, ...(p.values.has("--volume-group") ? { volumeGroup: p.values.get("--volume-group")! } : {}) };
        // --os-initrd: the default entry's initrd, whose crypttab names the volumes as the OS expects them (Heads' kexec-save-default reads it).
        const osInitrd = p.values.get("--os-initrd");
        if (osInitrd !== undefined) setup.overrides = await initrdCrypttabOverrides(ctx.sys, osInitrd);
        // Checked before the TPM is opened: a refused recovery passphrase needs no TPM. --wipe-occupied is the operator's "yes" to Heads' "Wipe key slot N?" for every slot the plan names.
        try {
          await planSetup(ctx.sys, setup);
        } catch (e) {
          if (!(e instanceof OccupiedSlotsError) || p.values.get("--wipe-occupied") !== "yes") throw e;
          setup.wipe = e.slots;
        }
        const { log } = readEventLog(ctx.sys);
        const done = await withTpm((tpm) => setUpDiskKey(ctx.sys, tpm, setup, { log, ...(owner ? { ownerPassphrase: owner } : {}) }));
        for (const [name, bytes] of done.lists) {
          if (bytes !== null) ctx.sys.writeFile(`${boot}/${name}`, bytes);
          else if (ctx.sys.stat(`${boot}/${name}`)) ctx.sys.remove(`${boot}/${name}`);
        }
        const written = [...done.lists].filter(([, bytes]) => bytes !== null).map(([name]) => name);
        ctx.out(`disk unlock key sealed; ${written.join(", ")} written: sign /boot again (bootward boot sign) or it will not verify`);
      } finally {
        for (const b of [drk, passphrase, owner]) b?.fill(0);
        wipeSecretDir(ctx.sys);
      }
      return 0;
    }
  } catch (error) {
    if (!(error instanceof LuksError || error instanceof TpmError || error instanceof LvmError || error instanceof DiskSetupError || error instanceof OccupiedSlotsError || error instanceof DiskKeyUnsealError || error instanceof KeyInitrdError || error instanceof OsInitrdError)) throw error;
    ctx.err(`bootward: ${error.message}`);
    return 1;
  }
  throw new UsageError(USAGE);
}
