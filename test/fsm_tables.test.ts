// The FSM tables of src/driver/fsm_tables.ts against an independent transcription of each
// version's vfio_ccw_jumptable (test/helpers/spec_tables.ts, markdown grids written by hand), so a
// cell that the source got wrong, moved or dropped shows up here.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ACTION_NAMES,
  FSM_NAMES,
  FSM_TABLES,
  type ActionName,
  type EventV4_12,
  type EventV6_0,
  type FsmShape,
  type JumpTable,
  type StateV5_0,
  type StateV6_0,
  type StateOf,
} from '../src/driver/fsm_tables.ts';
import { ORDER, SPEC } from './helpers/spec_tables.ts';
import { enum_values, event_name, event_value, fsm_jump, state_name, state_value } from './helpers/fsm_lookup.ts';

const shapes = Object.values(FSM_TABLES) as FsmShape[];

describe('FSM tables', () => {
  it('has one shape per table name, keyed by its own name', () => {
    expect(Object.keys(FSM_TABLES).sort()).toEqual([...FSM_NAMES].sort());
    expect(Object.keys(SPEC).sort()).toEqual([...FSM_NAMES].sort());
    for (const [label, shape] of Object.entries(FSM_TABLES)) expect(shape.name).toBe(label);
  });

  for (const label of FSM_NAMES) {
    describe(label, () => {
      const shape: FsmShape = FSM_TABLES[label];
      const grid = SPEC[label];
      const order = ORDER[label];
      if (grid === undefined || order === undefined) throw new Error(`no transcription for ${label}`);

      it('enum orders', () => {
        expect([...shape.states]).toEqual(order.states);
        expect([...shape.events]).toEqual(order.events);
        expect(new Set(shape.states).size).toBe(shape.states.length);
        expect(new Set(shape.events).size).toBe(shape.events.length);
      });

      it('rows and columns match the spec exactly (no extra, none missing)', () => {
        expect(Object.keys(shape.table).sort()).toEqual(grid.rows.map((r) => r.state).sort());
        expect([...shape.states].sort()).toEqual(grid.rows.map((r) => r.state).sort());
        expect([...shape.events].sort()).toEqual([...grid.cols].sort());
        for (const s of shape.states) expect(Object.keys(shape.table[s] ?? {}).sort()).toEqual([...grid.cols].sort());
      });

      it('every cell', () => {
        let cells = 0;
        for (const row of grid.rows) {
          expect(row.cells).toHaveLength(grid.cols.length);
          grid.cols.forEach((ev, i) => {
            expect(shape.table[row.state]?.[ev], `${label} ${row.state} × ${ev}`).toBe(row.cells[i]);
            cells++;
          });
        }
        expect(cells).toBe(shape.states.length * shape.events.length);
      });

      it('numeric dispatch agrees with the name table', () => {
        shape.states.forEach((s, si) => {
          expect(state_value(shape, s)).toBe(si);
          expect(state_name(shape, si)).toBe(s);
          shape.events.forEach((e, ei) => {
            expect(event_value(shape, e)).toBe(ei);
            expect(event_name(shape, ei)).toBe(e);
            expect(fsm_jump(shape, si, ei)).toBe(shape.table[s]?.[e]);
          });
        });
      });
    });
  }

  it('v4.12 and v4.18 share the table; v5.0 is v4.12 without BOXED', () => {
    expect(FSM_TABLES['v4.18'].table).toEqual(FSM_TABLES['v4.12'].table);
    const b3 = Object.fromEntries(Object.entries(FSM_TABLES['v4.12'].table).filter(([state]) => state !== 'BOXED'));
    expect(FSM_TABLES['v5.0'].table).toEqual(b3);
  });

  it('every action name is used by some table, and no table uses another', () => {
    const used = new Set<string>();
    for (const shape of shapes) for (const row of Object.values(shape.table)) for (const a of Object.values(row)) used.add(a);
    expect([...used].sort()).toEqual([...ACTION_NAMES].sort());
  });

  it('morel-2018 keeps its own nop; the others use fsm_nop', () => {
    for (const shape of shapes) {
      const actions = Object.values(shape.table).flatMap((row) => Object.values(row));
      expect(actions.includes('nop')).toBe(shape.name === 'morel-2018');
      expect(actions.includes('fsm_nop')).toBe(shape.name !== 'morel-2018');
    }
  });

  it('helpers: out-of-range values and unknown names', () => {
    const a: FsmShape = FSM_TABLES['morel-2018'];
    // A's fsm_quiescing can hand back 0 (NOT_OPER) or a negative errno as the next state.
    expect(state_name(a, 0)).toBe('NOT_OPER');
    expect(state_name(a, -19)).toBeUndefined();
    expect(state_name(a, 6)).toBeUndefined();
    expect(state_name(a, 1.5)).toBeUndefined();
    expect(fsm_jump(FSM_TABLES['v6.0'], 2, 99)).toBeUndefined();
    expect(fsm_jump(FSM_TABLES['v6.0'], -1, 0)).toBeUndefined();
    expect(fsm_jump(FSM_TABLES['v6.0'], 1, 4)).toBe('fsm_open');
    expect(() => state_value(a, 'CP_PENDING')).toThrow(/no state CP_PENDING/);
    expect(() => event_value(a, 'IO_REQ')).toThrow(/no event IO_REQ/);
    expect(enum_values(FSM_TABLES['v6.0'].states)).toEqual({ NOT_OPER: 0, STANDBY: 1, IDLE: 2, CP_PROCESSING: 3, CP_PENDING: 4 });
    expect(enum_values(FSM_TABLES['morel-2018'].events).OFFLINE).toBe(6);
  });

  it('types: names are checked against the shape', () => {
    expect(state_value(FSM_TABLES['v6.0'], 'CP_PENDING')).toBe(4);
    expect(event_value(FSM_TABLES['gunthorpe-2021'], 'CLOSE')).toBe(5);
    // @ts-expect-error F has no NOT_OPER state (it is BROKEN)
    expect(() => state_value(FSM_TABLES['gunthorpe-2021'], 'NOT_OPER')).toThrow();
    // @ts-expect-error C has no OPEN event
    expect(() => event_value(FSM_TABLES['v5.2'], 'OPEN')).toThrow();
    expectTypeOf(FSM_TABLES['v6.0'].table.IDLE.CLOSE).toEqualTypeOf<'fsm_close'>();
    expectTypeOf(FSM_TABLES['morel-2018'].table.QUIESCING.INTERRUPT).toEqualTypeOf<'fsm_quiescing_done'>();
    expectTypeOf<StateOf<'v5.0'>>().toEqualTypeOf<'NOT_OPER' | 'STANDBY' | 'IDLE' | 'BUSY'>();
    expectTypeOf(state_name(FSM_TABLES['v6.0'], 0)).toEqualTypeOf<StateV6_0 | undefined>();
  });

  it('types: an incomplete or misspelt table does not compile', () => {
    const missingRow = {
      NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
      STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
      IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
      // BUSY row missing
      // @ts-expect-error Property 'BUSY' is missing
    } as const satisfies JumpTable<StateV5_0, EventV4_12>;

    const missingCell = {
      NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
      STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
      IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
      // @ts-expect-error Property 'INTERRUPT' is missing
      BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy' },
    } as const satisfies JumpTable<StateV5_0, EventV4_12>;

    const misspelt = {
      NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
      STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
      IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
      // @ts-expect-error 'fsm_io_bsy' is not an ActionName
      BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_bsy', INTERRUPT: 'fsm_irq' },
    } as const satisfies JumpTable<StateV5_0, EventV4_12>;

    const extraEvent: JumpTable<StateV5_0, EventV4_12> = {
      NOT_OPER: { NOT_OPER: 'fsm_nop', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_disabled_irq' },
      STANDBY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_error', INTERRUPT: 'fsm_irq' },
      IDLE: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_request', INTERRUPT: 'fsm_irq' },
      // @ts-expect-error ASYNC_REQ is not a B event
      BUSY: { NOT_OPER: 'fsm_notoper', IO_REQ: 'fsm_io_busy', INTERRUPT: 'fsm_irq', ASYNC_REQ: 'fsm_async_request' },
    };

    // The G table with its CLOSE column dropped from one row.
    const idleWithoutClose = {
      NOT_OPER: 'fsm_notoper',
      IO_REQ: 'fsm_io_request',
      INTERRUPT: 'fsm_irq',
      ASYNC_REQ: 'fsm_async_request',
      OPEN: 'fsm_notoper',
    } as const;
    // @ts-expect-error Property 'CLOSE' is missing
    const gWithoutClose: JumpTable<StateV6_0, EventV6_0> = { ...FSM_TABLES['v6.0'].table, IDLE: idleWithoutClose };

    // Runtime: the broken tables really lack what the compiler flagged.
    expect(Object.keys(missingRow)).not.toContain('BUSY');
    expect(Object.keys(missingCell.BUSY)).not.toContain('INTERRUPT');
    expect((misspelt.BUSY as Record<string, string>).IO_REQ).toBe('fsm_io_bsy');
    expect(Object.keys(extraEvent.BUSY)).toContain('ASYNC_REQ');
    expect(Object.keys(gWithoutClose.IDLE)).not.toContain('CLOSE');
    expect(ACTION_NAMES).not.toContain('fsm_io_bsy' as ActionName);
  });
});
