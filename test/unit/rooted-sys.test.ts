// `--root DIR` as a Sys: what the code reads and writes lands under DIR, what it hands to a
// program names the same file on the host, and devices stay the kernel's.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";
import { runCli } from "../../runtime/cli/index.ts";
import type { Sys } from "../../runtime/host/sys.ts";

const host = createNodeSys();
const root = mkdtempSync(join(tmpdir(), "bootward-rooted-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("absolute paths land under the root; relative ones stay relative; hostPath names the same file for a program", async () => {
  const sys = rootedSys(host, `${root}/`);
  sys.mkdir("/etc", 0o755);
  sys.writeFile("/etc/config", "export CONFIG_BOARD=qemu-tpm2\n");
  assert.equal(readFileSync(join(root, "etc/config"), "utf8"), "export CONFIG_BOARD=qemu-tpm2\n");
  assert.deepEqual(sys.readdir("/etc"), ["config"]);
  assert.equal(sys.stat("/etc/config")?.kind, "file");
  assert.equal(sys.stat("/nonexistent"), null);
  sys.rename("/etc/config", "/etc/config.old");
  assert.equal(host.stat(join(root, "etc/config.old"))?.kind, "file");

  assert.equal(sys.hostPath("/etc/config.old"), join(root, "etc/config.old"));
  assert.equal(sys.hostPath("relative/file"), "relative/file");
  const cat = await sys.exec(["cat", sys.hostPath("/etc/config.old")]);
  assert.equal(new TextDecoder().decode(cat.stdout), "export CONFIG_BOARD=qemu-tpm2\n");
  // cwd is a path the code chose, so it is re-rooted too.
  const pwd = await sys.exec(["pwd"], { cwd: "/etc" });
  assert.equal(new TextDecoder().decode(pwd.stdout).trim(), join(root, "etc"));

  // A link's text is kept as written: its absolute target names a path inside the root.
  sys.symlink("/etc/config.old", "/etc/link");
  assert.equal(readlinkSync(join(root, "etc/link")), "/etc/config.old");
  assert.equal(sys.readlink("/etc/link"), "/etc/config.old");
});

test("a Sys rooted twice nests; the root / is the host's own Sys", () => {
  mkdirSync(join(root, "inner/boot"), { recursive: true });
  writeFileSync(join(root, "inner/boot/grub.cfg"), "menuentry");
  const nested = rootedSys(rootedSys(host, root), "/inner");
  assert.equal(nested.readText("/boot/grub.cfg"), "menuentry");
  assert.equal(nested.hostPath("/boot/grub.cfg"), join(root, "inner/boot/grub.cfg"));
  assert.equal(rootedSys(host, "/"), host);
});

test("devices are the kernel's: openDevice and mount sources are not moved under the root", async () => {
  const opened: string[] = [];
  const mounted: string[][] = [];
  const recording: Sys = {
    ...host,
    openDevice: (path) => {
      opened.push(path);
      return { read: () => new Uint8Array(), write: () => {}, close: () => {} };
    },
    mount: async (source, target) => void mounted.push([source, target]),
  };
  const sys = rootedSys(recording, root);
  sys.openDevice("/dev/tpmrm0", "rw").close();
  await sys.mount("/dev/vda1", "/boot", "ext4", "ro");
  assert.deepEqual(opened, ["/dev/tpmrm0"]);
  assert.deepEqual(mounted, [["/dev/vda1", join(root, "boot")]]);
});

test("bootward --root reads the command's files under the root, and only there", async () => {
  mkdirSync(join(root, "image"), { recursive: true });
  writeFileSync(join(root, "image/secret"), "JBSWY3DPEHPK3PXP");
  const out: string[] = [];
  const err: string[] = [];
  const sys: Sys = { ...host, console: { ...host.console, write: (t) => void out.push(t), writeError: (t) => void err.push(t) } };
  assert.equal(await runCli(["--root", root, "totp", "--secret-file", "/image/secret", "--time", "59"], sys), 0, err.join(""));
  assert.match(out.join(""), /^\d{6}/);
  // Without --root the same absolute path is the host's, where no such file is.
  out.length = 0;
  assert.equal(await runCli(["totp", "--secret-file", "/image/secret", "--time", "59"], sys), 1);
  assert.match(err.join(""), /\/image\/secret/);
});
