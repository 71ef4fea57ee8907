// The library API: what a user needs to write a scenario (user actions, hardware behaviour,
// expected outcomes) and extra invariants in their own .ts file, and run it with every tool
// (`vfio-ccw-sim stress --scenario ./my-scenario.ts`, `race`, `replay`, `trace`, `lockstat`);
// and what a patch file needs (`--variant ./my-change.ts`): `derive` over a built-in variant,
// rule objects, and the driver and kernel functions a replacement is written with.
export type { Scenario, ScenarioCheck, RunStats } from './scenarios/types.ts';
export { run_user, ScenarioEnv, type UserArgs, type UserResult, type Check } from './scenarios/env.ts';
export type { ProgramCtx } from './runtime/context.ts';
export { register_invariant, type UserInvariant } from './detect/invariants.ts';
export type { VfioCcwPrivate } from './driver/private.ts';
export type { HwConfig } from './hw/config.ts';
export type { HwCommand } from './hw/mailbox.ts';
export * as guest from './client/guest.ts';
export { VfioCcwClient } from './client/client.ts';
export * as scsw from './uapi/scsw.ts';
export * as errno from './uapi/errno.ts';
export * as uapi from './uapi/vfio_ccw.ts';
export { Rig, type RunConfig, type RunOutcome, type DetectorName } from './system/rig.ts';
export type { Report, Finding } from './report/report.ts';
export { VARIANTS, resolve_variant } from './variants/index.ts';
export { derive, type VariantChanges, type FeatureChanges } from './variants/derive.ts';
export type { Variant, VariantName, VariantFeatures, IoTodoRule, CpRules, DriverCode } from './variants/types.ts';
export * as kernel from './kernel/index.ts';
export * as drv from './driver/drv.ts';
export * as cp from './driver/cp.ts';
export { SITES } from './driver/sites.ts';
export { SCENARIOS } from './scenarios/index.ts';
