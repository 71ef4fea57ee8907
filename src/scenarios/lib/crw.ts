// Channel reports as the guest reads them from the CRW region.

/** The machine's only path (HW_INIT_DEFAULT: pim 0x80, CHPID 0x40). */
export const MACHINE_CHPID = 0x40;

/** A CRW's word (struct crw, arch/s390/include/asm/crw.h): reporting source, error recovery code, id. */
export const crw_word = (rsc: number, erc: number, rsid: number): number => ((rsc & 0xf) << 24) | ((erc & 0x3f) << 16) | (rsid & 0xffff);
