// config.user as Heads' set_user_config leaves it: old line replaced, sorted, no duplicates;
// a shell sourcing the result (as Heads' scripts do) gets the values bootward meant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withUserSettings } from "../../../runtime/config/user.ts";
import { parseConfig } from "../../../runtime/config/parse.ts";

test("a changed setting replaces its line, others stay, the file is sorted without duplicates", () => {
  const old = 'export CONFIG_USER_USB_KEYBOARD="y"\nCONFIG_HAVE_GPG_KEY_BACKUP=n\nexport CONFIG_BRAND_NAME="Owner"\nexport CONFIG_BRAND_NAME="Owner"\n';
  const text = withUserSettings(old, { CONFIG_HAVE_GPG_KEY_BACKUP: "y", CONFIG_BOOT_DEV: "/dev/nvme0n1p1" });
  assert.equal(text, [
    'export CONFIG_BOOT_DEV="/dev/nvme0n1p1"',
    'export CONFIG_BRAND_NAME="Owner"',
    'export CONFIG_HAVE_GPG_KEY_BACKUP="y"',
    'export CONFIG_USER_USB_KEYBOARD="y"',
    "",
  ].join("\n"));
  const dir = mkdtempSync(join(tmpdir(), "bootward-config-user-"));
  writeFileSync(join(dir, "config.user"), text);
  const sourced = execFileSync("sh", ["-c", '. "$1"; printf "%s|%s|%s" "$CONFIG_BOOT_DEV" "$CONFIG_HAVE_GPG_KEY_BACKUP" "$CONFIG_BRAND_NAME"', "sh", join(dir, "config.user")], { encoding: "utf8" });
  rmSync(dir, { recursive: true });
  assert.equal(sourced, "/dev/nvme0n1p1|y|Owner");
  assert.deepEqual(parseConfig(text), { CONFIG_BOOT_DEV: "/dev/nvme0n1p1", CONFIG_BRAND_NAME: "Owner", CONFIG_HAVE_GPG_KEY_BACKUP: "y", CONFIG_USER_USB_KEYBOARD: "y" });
});

test("values a double-quoted shell string cannot hold plainly, bad names and a broken old file are refused", () => {
  for (const value of ['a"b', "a$b", "a`b", "a\\b", "a\nb"]) assert.throws(() => withUserSettings("", { CONFIG_X: value }), /cannot store/);
  assert.throws(() => withUserSettings("", { PATH: "/tmp" }), /not a CONFIG_ setting name/);
  assert.throws(() => withUserSettings("rm -rf /\n", { CONFIG_X: "y" }), /not a CONFIG assignment/);
});
