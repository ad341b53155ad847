// Refresh the real event log fixtures: boot the QEMU board's firmware (SeaBIOS) with swtpm
// (TPM 2.0 and 1.2) and the Debian kernel into a one-program initramfs (capture/init.c)
// that prints the log and the live PCRs on the serial line.
// `npx tsx test/tpm/capture-eventlog.ts KERNEL` (KERNEL: a vmlinuz with TPM TIS built in).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const kernel = process.argv[2];
if (!kernel || !existsSync(kernel)) {
  console.error("usage: npx tsx test/tpm/capture-eventlog.ts /path/to/vmlinuz");
  process.exit(2);
}
const here = new URL(".", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "bootward-capture-"));

try {
  const rootfs = join(work, "root");
  for (const d of ["dev", "sys", "proc"]) mkdirSync(join(rootfs, d), { recursive: true });
  execFileSync("musl-gcc", ["-O2", "-static", "-o", join(rootfs, "init"), join(here, "capture/init.c")]);
  const list = execFileSync("find", [".", "-print0"], { cwd: rootfs });
  const names = list.toString("latin1").split("\0").filter(Boolean).sort();
  const cpio = execFileSync("cpio", ["-o", "-H", "newc", "--null", "--quiet", "--reproducible", "-R", "0:0"], { cwd: rootfs, input: names.join("\0") + "\0" });
  writeFileSync(join(work, "initrd.cpio"), cpio);

  for (const version of ["2.0", "1.2"] as const) {
    const state = join(work, `tpm-${version}`);
    mkdirSync(state);
    const sock = join(state, "sock");
    const swtpm = spawn("swtpm", ["socket", ...(version === "2.0" ? ["--tpm2"] : []), "--tpmstate", `dir=${state}`, "--ctrl", `type=unixio,path=${sock}`], { stdio: "ignore" });
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
    const serial = await new Promise<string>((resolve, reject) => {
      const q = spawn("qemu-system-x86_64", [
        "-machine", "pc", "-accel", "tcg", "-cpu", "max", "-m", "512", "-display", "none", "-no-reboot",
        "-serial", "stdio", "-kernel", kernel, "-initrd", join(work, "initrd.cpio"), "-append", "console=ttyS0 quiet panic=-1",
        "-chardev", `socket,id=chrtpm,path=${sock}`, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0",
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      q.stdout.on("data", (d) => (out += d));
      const timer = setTimeout(() => q.kill(), 180_000);
      q.on("exit", () => {
        clearTimeout(timer);
        out.includes("CAPTURE-DONE") ? resolve(out) : reject(new Error(`no capture from the TPM ${version} boot:\n${out.slice(-2000)}`));
      });
    });
    await new Promise((r) => (swtpm.exitCode !== null ? r(null) : swtpm.once("exit", r)));
    const lines = serial.split(/\r?\n/);
    const begin = lines.indexOf("EVENTLOG-BEGIN");
    const end = lines.indexOf("EVENTLOG-END");
    if (begin < 0 || end < 0) throw new Error(`the TPM ${version} boot printed no event log`);
    const log = Buffer.from(lines.slice(begin + 1, end).join(""), "hex");
    const pcrs: Record<string, string> = {};
    for (const l of lines) {
      const m2 = /^PCR-SHA256 (\d+) ([0-9A-Fa-f]{64})/.exec(l);
      if (m2) pcrs[m2[1]!] = m2[2]!.toLowerCase();
      const m1 = /^PCR-SHA1 PCR-(\d+): ((?:[0-9A-F]{2} ?){20})/.exec(l);
      if (m1) pcrs[String(Number(m1[1]))] = m1[2]!.replace(/ /g, "").toLowerCase();
    }
    const name = version === "2.0" ? "seabios-tpm2" : "seabios-tpm12";
    writeFileSync(join(here, "fixtures", `${name}.bin`), log);
    writeFileSync(join(here, "fixtures", `${name}.pcrs.json`), JSON.stringify({ captured: "QEMU pc + SeaBIOS + swtpm " + version, bank: version === "2.0" ? "sha256" : "sha1", pcrs }, null, 2) + "\n");
    console.log(`TPM ${version}: ${log.length} bytes of event log, ${Object.keys(pcrs).length} PCRs`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
