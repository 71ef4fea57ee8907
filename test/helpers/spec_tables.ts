// Each version's vfio_ccw_jumptable (vfio_ccw_fsm.c) transcribed by hand as markdown grids, one
// row per state, and the enum orders of vfio_ccw_state and vfio_ccw_event (vfio_ccw_private.h).
// Shared by the table tests, which check the driver's tables (as names and as functions) against
// these, not against src.

// A: the vfio_ccw_fsm.c snapshot of Pierre Morel's 2018 series, BOXED row included. A's "nop" is its own action.
export const SPEC_A = `
| State \\ Event | INIT | ONLINE | OFFLINE | NOT_OPER | SSCH_REQ | INTERRUPT | SCHIB_CHANGED |
| NOT_OPER | fsm_init | nop | nop | nop | nop | nop | nop |
| STANDBY | nop | fsm_online | fsm_offline | fsm_notoper | fsm_io_error | fsm_disabled_irq | fsm_sch_event |
| IDLE | nop | nop | fsm_offline | fsm_notoper | fsm_io_request | fsm_irq | fsm_sch_event |
| BOXED | nop | nop | fsm_quiescing | fsm_notoper | fsm_io_busy | fsm_irq | fsm_sch_event |
| BUSY | nop | nop | fsm_quiescing | fsm_notoper | fsm_io_busy | fsm_irq | fsm_sch_event |
| QUIESCING | nop | nop | nop | fsm_notoper | fsm_io_busy | fsm_quiescing_done | fsm_sch_event |
`;

// B1/B2: v4.12 … v4.20 (B3, v5.0 … v5.1: the same without the BOXED row).
export const SPEC_B12 = `
| State \\ Event | NOT_OPER | IO_REQ | INTERRUPT |
| NOT_OPER | fsm_nop | fsm_io_error | fsm_disabled_irq |
| STANDBY | fsm_notoper | fsm_io_error | fsm_irq |
| IDLE | fsm_notoper | fsm_io_request | fsm_irq |
| BOXED | fsm_notoper | fsm_io_busy | fsm_irq |
| BUSY | fsm_notoper | fsm_io_busy | fsm_irq |
`;
export const SPEC_B3 = `
| State \\ Event | NOT_OPER | IO_REQ | INTERRUPT |
| NOT_OPER | fsm_nop | fsm_io_error | fsm_disabled_irq |
| STANDBY | fsm_notoper | fsm_io_error | fsm_irq |
| IDLE | fsm_notoper | fsm_io_request | fsm_irq |
| BUSY | fsm_notoper | fsm_io_busy | fsm_irq |
`;

// C: v5.2 … v5.19.
export const SPEC_C = `
| State \\ Event | NOT_OPER | IO_REQ | INTERRUPT | ASYNC_REQ |
| NOT_OPER | fsm_nop | fsm_io_error | fsm_disabled_irq | fsm_async_error |
| STANDBY | fsm_notoper | fsm_io_error | fsm_irq | fsm_async_error |
| IDLE | fsm_notoper | fsm_io_request | fsm_irq | fsm_async_request |
| CP_PROCESSING | fsm_notoper | fsm_io_retry | fsm_irq | fsm_async_retry |
| CP_PENDING | fsm_notoper | fsm_io_busy | fsm_irq | fsm_async_request |
`;

// F: Jason Gunthorpe's 2021 series (v3). "nop" here is fsm_nop.
export const SPEC_F = `
| State \\ Event | BROKEN | IO_REQ | INTERRUPT | ASYNC_REQ | OPEN | CLOSE |
| BROKEN | nop | fsm_io_error | fsm_disabled_irq | fsm_async_error | nop | nop |
| CLOSED | fsm_broken | fsm_io_error | fsm_disabled_irq | fsm_async_error | fsm_open | fsm_broken |
| IDLE | fsm_broken | fsm_io_request | fsm_irq | fsm_async_request | fsm_broken | fsm_close |
| CP_PROCESSING | fsm_broken | fsm_io_retry | fsm_irq | fsm_async_retry | fsm_broken | fsm_close |
| CP_PENDING | fsm_broken | fsm_io_busy | fsm_irq | fsm_async_request | fsm_broken | fsm_close |
`;

// E: v6.0 … current. "nop" here is fsm_nop.
export const SPEC_E = `
| State \\ Event | NOT_OPER | IO_REQ | INTERRUPT | ASYNC_REQ | OPEN | CLOSE |
| NOT_OPER | nop | fsm_io_error | fsm_disabled_irq | fsm_async_error | nop | nop |
| STANDBY | fsm_notoper | fsm_io_error | fsm_disabled_irq | fsm_async_error | fsm_open | fsm_notoper |
| IDLE | fsm_notoper | fsm_io_request | fsm_irq | fsm_async_request | fsm_notoper | fsm_close |
| CP_PROCESSING | fsm_notoper | fsm_io_retry | fsm_irq | fsm_async_retry | fsm_notoper | fsm_close |
| CP_PENDING | fsm_notoper | fsm_io_busy | fsm_irq | fsm_async_request | fsm_notoper | fsm_close |
`;

// Enum orders (A: the cover letter gives BOXED no value; the source appends it).
export const ORDER: Record<string, { states: string[]; events: string[] }> = {
  'morel-2018': {
    states: ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY', 'QUIESCING', 'BOXED'],
    events: ['INIT', 'NOT_OPER', 'SSCH_REQ', 'INTERRUPT', 'SCHIB_CHANGED', 'ONLINE', 'OFFLINE'],
  },
  'v4.12': { states: ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY'], events: ['NOT_OPER', 'IO_REQ', 'INTERRUPT'] },
  'v4.18': { states: ['NOT_OPER', 'STANDBY', 'IDLE', 'BOXED', 'BUSY'], events: ['NOT_OPER', 'IO_REQ', 'INTERRUPT'] },
  'v5.0': { states: ['NOT_OPER', 'STANDBY', 'IDLE', 'BUSY'], events: ['NOT_OPER', 'IO_REQ', 'INTERRUPT'] },
  'v5.2': { states: ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'], events: ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ'] },
  'gunthorpe-2021': { states: ['BROKEN', 'CLOSED', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'], events: ['BROKEN', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'] },
  'v6.0': {
    states: ['NOT_OPER', 'STANDBY', 'IDLE', 'CP_PROCESSING', 'CP_PENDING'],
    events: ['NOT_OPER', 'IO_REQ', 'INTERRUPT', 'ASYNC_REQ', 'OPEN', 'CLOSE'],
  },
};

export interface Grid {
  cols: string[];
  rows: { state: string; cells: string[] }[];
}

export function parseGrid(text: string, nop: string): Grid {
  const lines = text
    .trim()
    .split('\n')
    .map((l) =>
      l
        .split('|')
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    );
  const [head, ...body] = lines;
  if (head === undefined) throw new Error('empty grid');
  return {
    cols: head.slice(1),
    rows: body.map(([state, ...cells]) => ({ state: state ?? '', cells: cells.map((c) => (c === 'nop' ? nop : c)) })),
  };
}

export const SPEC: Record<string, Grid> = {
  'morel-2018': parseGrid(SPEC_A, 'nop'),
  'v4.12': parseGrid(SPEC_B12, 'fsm_nop'),
  'v4.18': parseGrid(SPEC_B12, 'fsm_nop'),
  'v5.0': parseGrid(SPEC_B3, 'fsm_nop'),
  'v5.2': parseGrid(SPEC_C, 'fsm_nop'),
  'gunthorpe-2021': parseGrid(SPEC_F, 'fsm_nop'),
  'v6.0': parseGrid(SPEC_E, 'fsm_nop'),
};

