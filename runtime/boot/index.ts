// /boot integrity and kexec. The VerifiedBoot constructor token stays inside verify.ts.
export { BootNameError, nameProblem } from "./integrity/names.ts";
export { walkBoot, BootSymlinkError, BootTreeError, type TreeNode } from "./integrity/walk.ts";
export { sha256Files, FileHashError } from "./integrity/file-hashes.ts";
export * from "./integrity/hashes.ts";
export { isSignedListName, readSignedLists, signedStream, SIGNATURE_FILE, SignedSetError } from "./integrity/signed-set.ts";
export { scanMenu, readBootConfigs, type Menu } from "./entries/menu.ts";
export { VerifiedBoot, isVerifiedBoot, type DefaultChoice } from "./integrity/verified.ts";
export { verifyBoot, BootVerifyError, type CheckName, type FileChanges, type VerifyBootOptions } from "./integrity/verify.ts";
export { signBoot, resumeSwitch, BootSignError, STAGING_DIR, type SignBootOptions, type SignResult } from "./integrity/sign.ts";
export { plan, describePlan, executePlan, unsafeBoot, buildCmdline, UnsafeBoot, KexecError, STAGE_DIR, type KexecPlan, type CmdlineRules, type StagedFile } from "./kexec/kexec.ts";
export { resolveInBoot, BootPathError } from "./integrity/resolve.ts";
