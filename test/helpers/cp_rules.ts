// The channel-program rules of each kernel line, for the cp tests to run one line's cp_init,
// cp_free and cp_update_scsw against another's. The first line is the registry's v4.12; each
// later line is the change its kernel made (the variants carry the same changes in their own
// files; the line constants here also stand for points in between, such as the v5.3 development
// code).
import type { CpRules } from '../../src/driver/cp.ts';
import { variant_by_name } from '../../src/variants/registry.ts';

/** v4.12 … v5.1: no initialized flag; every accessor walks the list as it is (the registry's v4.12). */
export const CP_RULES_B: Readonly<CpRules> = variant_by_name('v4.12')!.features.cp_rules;

/**
 * v5.2: the initialized flag. The spec dates the "just past the end" match of cp_update_scsw
 * only as later than B [not verified]; it is taken from v5.2 on.
 */
export const CP_RULES_C52: Readonly<CpRules> = { ...CP_RULES_B, has_initialized_flag: true, update_scsw_past_end: true };

/**
 * The v5.3 development code after "s390/cio: Squash cp_free() and cp_unpin_free()" and before
 * M-C6: the error path calls cp_free, which returns at once, and the chains stay allocated.
 */
export const CP_RULES_C53_DEV: Readonly<CpRules> = { ...CP_RULES_C52, init_error_path: 'cp_free_noop' };

/**
 * v5.3 … v5.12: a failed chain frees itself (M-C6), pa_nr = 0 on allocation failure (M-C7).
 * pfch is still required here: the spec dates its relaxation ~v5.7 [not verified], so this
 * stands for v5.3 … v5.6 on that point.
 */
export const CP_RULES_C53: Readonly<CpRules> = { ...CP_RULES_C52, init_error_path: 'free_failed_chain', pa_nr_zero_on_alloc_fail: true };

/**
 * v5.13+: cp_init on an initialised cp is -EBUSY (M-D2). A missing pfch only logs: v5.13 is
 * after the ~v5.7 relaxation (a date not verified; the rule is read from the mainline code).
 */
export const CP_RULES_D: Readonly<CpRules> = { ...CP_RULES_C53, init_busy_if_initialized: true, reject_no_pfch: false };

/** v6.0+: as D, and cp_iova_pinned takes a length (M-E7). */
export const CP_RULES_G: Readonly<CpRules> = { ...CP_RULES_D, iova_pinned_range: true };

