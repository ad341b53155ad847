// /boot integrity and kexec. The VerifiedBoot constructor token stays inside verify.ts.
export { BootNameError, nameProblem } from "./names.ts";
export { walkBoot, BootSymlinkError, BootTreeError, type TreeNode } from "./walk.ts";
export { sha256Files, FileHashError } from "./file-hashes.ts";
export * from "./hashes.ts";
export { isSignedListName, readSignedLists, signedStream, SIGNATURE_FILE, SignedSetError } from "./signed-set.ts";
export { scanMenu, readBootConfigs, type Menu } from "./menu.ts";
export { VerifiedBoot, isVerifiedBoot, type DefaultChoice } from "./verified.ts";
export { verifyBoot, BootVerifyError, type CheckName, type FileChanges, type VerifyBootOptions } from "./verify.ts";
export { signBoot, resumeSwitch, BootSignError, STAGING_DIR, type SignBootOptions, type SignResult } from "./sign.ts";
export { plan, describePlan, executePlan, unsafeBoot, buildCmdline, UnsafeBoot, KexecError, STAGE_DIR, type KexecPlan, type CmdlineRules, type StagedFile } from "./kexec.ts";
export { resolveInBoot, BootPathError } from "./resolve.ts";
