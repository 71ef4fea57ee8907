// The variant registry: name and release resolution, FSM labels, and feature consistency against
// the kernel timeline: each feature is stated once as the release its change landed in, and every
// variant is checked against the release it models.
import { describe, expect, it } from 'vitest';
import { FSM_TABLES } from '../src/driver/fsm_tables.ts';
import {
  UnknownVariantError,
  VARIANTS,
  VARIANT_NAMES,
  compare_release,
  format_variant_table,
  parse_release,
  resolve_variant,
  try_resolve_variant,
  variant_by_name,
  variants_json,
  type KernelRelease,
  type Variant,
} from '../src/variants/registry.ts';

function rel(s: string): KernelRelease {
  const r = parse_release(s);
  if (r === null) throw new Error(`bad release ${s}`);
  return r;
}
const atLeast = (v: Variant, s: string): boolean => compare_release(rel(v.models), rel(s)) >= 0;
const atMost = (v: Variant, s: string): boolean => compare_release(rel(v.models), rel(s)) <= 0;
const byName = (n: string): Variant => {
  const v = variant_by_name(n);
  if (v === undefined) throw new Error(`no variant ${n}`);
  return v;
};

describe('registry contents', () => {
  it('names and labels are unique; merged variants are listed in release order, each modelling a release of its range', () => {
    expect(VARIANTS.map((v) => v.name)).toEqual([...VARIANT_NAMES]);
    expect(new Set(VARIANTS.map((v) => v.name)).size).toBe(VARIANTS.length);
    expect(new Set(VARIANTS.map((v) => v.label)).size).toBe(VARIANTS.length);
    const merged = VARIANTS.filter((v) => v.merged);
    for (let i = 1; i < merged.length; i++) expect(compare_release(rel(merged[i - 1]!.models), rel(merged[i]!.models)), merged[i]!.name).toBeLessThan(0);
    for (const v of merged) {
      const k = v.kernel!;
      expect(atLeast(v, k.from), v.name).toBe(true);
      if (k.to !== null) expect(atMost(v, k.to), v.name).toBe(true);
      expect(resolve_variant(k.from).name).toBe(v.name);
      if (k.to !== null) expect(resolve_variant(k.to).name).toBe(v.name);
    }
  });

  it('each variant runs an FSM table of its own label, and a table once replaced never comes back', () => {
    for (const v of VARIANTS) expect(FSM_TABLES[v.fsm].name).toBe(v.fsm);
    const order = VARIANTS.filter((v) => v.merged).map((v) => v.fsm);
    const runs = order.filter((l, i) => i === 0 || order[i - 1] !== l);
    expect(new Set(runs).size).toBe(runs.length);
    // a proposal runs either its base's table or one no merged release has
    for (const v of VARIANTS.filter((x) => !x.merged)) {
      const base = byName(v.based_on!);
      expect(v.fsm === base.fsm || !order.includes(v.fsm), v.name).toBe(true);
    }
  });

  it('merged ranges are contiguous, ordered and do not overlap', () => {
    const merged = VARIANTS.filter((v) => v.kernel !== null);
    expect(merged.every((v) => v.merged)).toBe(true);
    expect(VARIANTS.filter((v) => !v.merged).every((v) => v.kernel === null)).toBe(true);
    for (let i = 1; i < merged.length; i++) {
      const prev = merged[i - 1]?.kernel;
      const cur = merged[i]?.kernel;
      if (!prev?.to || !cur) throw new Error('open range before the end');
      const p = rel(prev.to);
      const last: Record<number, number> = { 4: 20, 5: 19, 6: 19 };
      const next = p.minor === last[p.major] ? { major: p.major + 1, minor: 0 } : { major: p.major, minor: p.minor + 1 };
      expect(rel(cur.from)).toEqual(next);
    }
    expect(merged.at(-1)?.kernel?.to).toBeNull();
  });

  it('every entry is complete: description, changes, references, modelled release inside its range', () => {
    for (const v of VARIANTS) {
      expect(v.description.length, v.name).toBeGreaterThan(10);
      expect(v.description).not.toContain('\n');
      expect(v.changes.length, v.name).toBeGreaterThan(0);
      if (v.based_on !== null) expect(variant_by_name(v.based_on), v.name).toBeDefined();
      expect(parse_release(v.models), v.name).not.toBeNull();
      if (v.kernel !== null) expect(try_resolve_variant(v.models)).toEqual({ ok: true, variant: v });
      for (const c of v.commits) expect(c.id).toMatch(/^[0-9a-f]{10,12}$/);
      for (const m of v.mails) expect(m.label).toMatch(/^M-[A-Z]\d|^M-misc$/);
    }
    expect(VARIANTS.filter((v) => v.based_on === null).map((v) => v.name)).toEqual(['v4.12']);
  });

  it('names the commits and mails the spec ties to each version', () => {
    const commits = (n: string) => byName(n).commits.map((c) => c.id);
    const mails = (n: string) => byName(n).mails.map((m) => m.label);
    expect(commits('v5.13')).toContain('2af7a834a435');
    expect(mails('v5.13')).toEqual(expect.arrayContaining(['M-D2', 'M-D3', 'M-D4']));
    expect(commits('v5.2')).toEqual(expect.arrayContaining(['4f76617378ee', '71189f263f8a', 'cea5dde42a83', 'd1ffa760d22a', 'b49bdc8602b7']));
    expect(commits('v5.3')).toEqual(expect.arrayContaining(['812271b910', '60e05d1cf087']));
    expect(commits('v5.13')).toContain('3bf1311f351e');
    expect(mails('morel-2018')).toContain('M-A0');
    expect(mails('gunthorpe-2021')).toContain('M-F1');
    expect(mails('v6.0')).toEqual(['M-E0', 'M-E1', 'M-E2', 'M-E3', 'M-E4', 'M-E5', 'M-E6', 'M-E7']);
    expect(mails('v6.1')).toEqual(['M-E8']);
    expect(mails('v6.2')).toEqual(['M-E9']);
  });

  it('says what it models wherever that is a choice: a closed range of releases, or a proposal', () => {
    for (const v of VARIANTS) {
      for (const fact of v.inferred) {
        expect(fact.trim().length, v.name).toBeGreaterThan(0);
        expect(fact, v.name).not.toContain('\n');
      }
      const chosen = v.kernel === null || (v.kernel.to !== null && v.kernel.to !== v.kernel.from);
      if (chosen) expect(v.inferred.join(' '), v.name).toContain(v.models);
    }
    expect(byName('morel-2018').inferred.join(' ')).toMatch(/BOXED/);
    expect(byName('v5.3').inferred.join(' ')).toMatch(/v5\.11/);
  });
});

describe('resolve_variant', () => {
  it('resolves every exact name to itself', () => {
    for (const n of VARIANT_NAMES) expect(resolve_variant(n).name).toBe(n);
  });

  it.each([
    ['v4.12', 'v4.12'],
    ['v4.14', 'v4.12'],
    ['v4.17', 'v4.12'],
    ['4.17.19', 'v4.12'],
    ['v4.18', 'v4.18'],
    ['v4.20', 'v4.18'],
    ['v4.20.17', 'v4.18'],
    ['v5.0', 'v5.0'],
    ['5.0.21', 'v5.0'],
    ['v5.1', 'v5.0'],
    ['v5.2', 'v5.2'],
    ['5.2.1', 'v5.2'],
    ['v5.3', 'v5.3'],
    ['v5.4', 'v5.3'],
    ['v5.12', 'v5.3'],
    ['v5.12.19', 'v5.3'],
    ['v5.13', 'v5.13'],
    ['v5.13-rc1', 'v5.13'],
    ['5.15', 'v5.13'],
    ['v5.15.3', 'v5.13'],
    ['v5.19', 'v5.13'],
    ['v6.0', 'v6.0'],
    ['6.0.19', 'v6.0'],
    ['v6.1', 'v6.1'],
    ['v6.1.100', 'v6.1'],
    ['v6.2', 'v6.2'],
    ['v6.3', 'v6.3'],
    ['v6.8', 'v6.3'],
    ['6.12.1', 'v6.3'],
    ['V6.6', 'v6.3'],
    ['v6.19', 'v6.3'],
    ['v7.0', 'mainline'],
    ['7.1.2', 'mainline'],
    [' v5.10 ', 'v5.3'],
  ])('%s -> %s', (arg, name) => {
    expect(resolve_variant(arg).name).toBe(name);
  });

  it.each(['', 'v4.11', 'v3.10', 'v4.21', 'v5.20', 'v6.20', 'v2.6.32', 'G', 'Mainline', 'v5', 'five', 'v5.x', 'v6.1-foo', 'morel', '5.15.3.1'])(
    'rejects %j with a one-line message naming the valid names',
    (arg) => {
      const r = try_resolve_variant(arg);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).not.toContain('\n');
      for (const n of VARIANT_NAMES) expect(r.error).toContain(n);
      expect(() => resolve_variant(arg)).toThrow(UnknownVariantError);
      expect(() => resolve_variant(arg)).toThrow(r.error);
    },
  );

  it('says why a release is rejected', () => {
    expect(() => resolve_variant('v4.11')).toThrow(/predates vfio-ccw/);
    expect(() => resolve_variant('v5.20')).toThrow(/not a Linux release/);
    expect(() => resolve_variant('nope')).toThrow(/unknown variant 'nope'/);
  });

  it('never selects an unmerged proposal by release', () => {
    for (const v of VARIANTS.filter((x) => !x.merged)) expect(resolve_variant(v.models).merged).toBe(true);
  });
});

describe('features are consistent with the timeline', () => {
  for (const v of VARIANTS) {
    describe(v.name, () => {
      const f = v.features;
      const shape = FSM_TABLES[v.fsm];
      const states: readonly string[] = shape.states;
      const events: readonly string[] = shape.events;

      it('regions, IRQs, io_mutex (v5.2, v5.8, v5.11)', () => {
        const asyncRegion = f.regions !== 'io';
        expect(f.io_mutex).toBe(atLeast(v, 'v5.2'));
        expect(asyncRegion).toBe(atLeast(v, 'v5.2'));
        expect(f.offset_shift).toBe(asyncRegion);
        expect(f.regions === 'io+async+schib+crw').toBe(atLeast(v, 'v5.8'));
        expect(f.chp_event).toBe(atLeast(v, 'v5.8'));
        expect(f.irqs).toBe(atLeast(v, 'v5.11') ? 3 : atLeast(v, 'v5.8') ? 2 : 1);
        // the async region exists iff the FSM has an ASYNC_REQ event
        expect(events.includes('ASYNC_REQ')).toBe(asyncRegion);
      });

      it('request path matches the FSM model', () => {
        expect(states).toContain(f.request_entry_state);
        expect(f.write_prefilter_eacces).toBe(!f.io_mutex);
        expect(f.write_resets_idle_on_error).toBe(atMost(v, 'v5.12'));
        expect(f.err_out_sets_idle).toBe(!f.io_mutex || atLeast(v, 'v5.13'));
        expect(f.tm_check).toBe(atLeast(v, 'v4.18') && v.label !== 'A');
        expect(f.io_helper === 'one-lock-pending-on-cc0').toBe(f.io_mutex);
        expect(f.halt_clear_on_io_region === 'no-fctl-check').toBe(v.label === 'A');
        expect(f.ioctl_copyback_fault === 'raw-count').toBe(!f.io_mutex);
      });

      it('io_todo by release', () => {
        // The proposal of 2018 ran fsm_irq in the work item and set IDLE from the action's return.
        const proposal = v.name === 'morel-2018';
        expect(f.io_todo.in_fsm_irq).toBe(proposal);
        // v5.0 "only free cp on final interrupt"; v5.3 also requires CP_PENDING
        expect(f.io_todo.free).toBe(atLeast(v, 'v5.3') ? 'final+cp_pending' : atLeast(v, 'v5.0') ? 'final' : 'solicited');
        // IDLE: while an mdev exists (B), on a final IRB (v5.0), once the cp was freed (v5.13,
        // 2af7a834a435), and with no mdev check from v6.0 (the mdev checks went with the FSM OPEN/CLOSE)
        const idle = proposal ? 'returned' : atLeast(v, 'v6.0') ? 'freed' : atLeast(v, 'v5.13') ? 'mdev+freed' : atLeast(v, 'v5.0') ? 'mdev+final' : 'mdev';
        expect(f.io_todo.idle).toBe(idle);
        // v5.3: IDLE is set before the eventfd is signalled
        expect(f.io_todo.idle_before_signal).toBe(atLeast(v, 'v5.3'));
      });

      it('cp rules by release', () => {
        const r = f.cp_rules;
        expect(r.has_initialized_flag).toBe(atLeast(v, 'v5.2'));
        expect(r.update_scsw_past_end).toBe(atLeast(v, 'v5.2'));
        expect(r.init_error_path).toBe(atLeast(v, 'v5.3') ? 'free_failed_chain' : 'unpin_free_all');
        expect(r.pa_nr_zero_on_alloc_fail).toBe(atLeast(v, 'v5.3'));
        expect(r.init_busy_if_initialized).toBe(atLeast(v, 'v5.13'));
        // pfch relaxed ≈v5.7 [not verified]: the release a variant models decides it
        expect(r.reject_no_pfch).toBe(!atLeast(v, 'v5.7'));
        expect(r.iova_pinned_range).toBe(atLeast(v, 'v6.0'));
        expect(r.iova_pinned_range).toBe(f.dma_unmap === 'callback-range');
      });

      it('FSM OPEN/CLOSE and the lifecycle that goes with it', () => {
        const openClose = events.includes('OPEN') && events.includes('CLOSE');
        expect(f.open_close_fsm_events).toBe(openClose);
        expect(f.reset === 'close+open').toBe(openClose);
        expect(f.notoper_frees_cp).toBe(openClose);
        expect(f.notoper_absorbing).toBe(openClose);
        expect(f.probe_enables_subchannel).toBe(!openClose);
        expect(f.mdev_create_sets_idle).toBe(!openClose);
        expect(f.sch_event_rewrite).toBe(!openClose && v.label !== 'A');
        expect(f.mdev_remove === 'unregister').toBe(openClose);
        expect(f.release_frees_cp).toBe(f.io_mutex && !openClose);
        expect(f.quiesce).toBe(({ A: 'quiescing-state', B1: 'retry-255-flush-under-lock', B2: 'retry-255-flush-under-lock', B3: 'retry-255-flush-under-lock', F: 'flush_sch-in-close' } as Record<string, string>)[v.label] ?? (openClose ? 'in-close-lock-held' : 'retry-once'));
      });

      it('lifecycle by release', () => {
        expect(f.per_fd_open).toBe(atMost(v, 'v5.14'));
        expect(f.open_close_fsm_events).toBe(v.label === 'F' || atLeast(v, 'v6.0'));
        expect(f.release_completion).toBe(v.label === 'E1');
        expect(f.parent_split).toBe(atLeast(v, 'v6.2'));
        expect(f.avail_accounting).toBe(atMost(v, 'v6.0'));
        expect(f.probe_registers_parent_last).toBe(atLeast(v, 'v5.0'));
        expect(f.uuid_log_by_reference).toBe(atLeast(v, 'v5.4') && atMost(v, 'v5.19'));
        expect(f.sch_event_busy_rc).toBe(atLeast(v, 'v5.2') ? -11 : 0);
        expect(f.dma_unmap === 'notifier-exact').toBe(atMost(v, 'v5.19'));
        // mdev core: parent->unreg_sem (5715c4dd66a3, v5.3); vfio core: group unhook before the wait (v6.5)
        expect(f.mdev_unreg_sem).toBe(atLeast(v, 'v5.3'));
        expect(f.vfio_unhooks_before_wait).toBe(atLeast(v, 'v6.5'));
      });
    });
  }

  it('v6.3 behaves as v6.2; mainline is v6.3 plus the current tree\'s locking (torvalds/linux @ 16b0798024c0)', () => {
    expect(byName('v6.3').features).toEqual(byName('v6.2').features);
    const changed = Object.entries(byName('mainline').features).filter(([k, x]) => JSON.stringify(x) !== JSON.stringify(byName('v6.3').features[k as keyof Variant['features']]));
    expect(Object.fromEntries(changed)).toEqual({ crw_lock: true, io_todo_holds_io_mutex: true, close_cancels_work: true, vfio_unhooks_before_wait: true });
    for (const v of VARIANTS.filter((x) => x.name !== 'mainline')) {
      expect(v.features.crw_lock, v.name).toBe(false);
      expect(v.features.io_todo_holds_io_mutex, v.name).toBe(false);
      expect(v.features.close_cancels_work, v.name).toBe(false);
      expect(v.features.vfio_unhooks_before_wait, v.name).toBe(false);
    }
  });

  it('neighbouring variants differ in at least one feature or in the FSM', () => {
    for (let i = 1; i < VARIANTS.length; i++) {
      const a = VARIANTS[i - 1];
      const b = VARIANTS[i];
      // v6.3 is v6.2's behaviour under the spec's G label (the releases differ in nothing modelled)
      if (!a || !b || b.name === 'v6.3') continue;
      expect(a.fsm !== b.fsm || JSON.stringify(a.features) !== JSON.stringify(b.features), `${a.name} vs ${b.name}`).toBe(true);
    }
  });
});

describe('output', () => {
  it('prints one row per variant with name, label, range and description', () => {
    const text = format_variant_table();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(VARIANTS.length + 1);
    expect(lines[0]).toMatch(/^name\s+label\s+kernel\s+description$/);
    VARIANTS.forEach((v, i) => {
      const line = lines[i + 1] ?? '';
      expect(line.startsWith(v.name)).toBe(true);
      expect(line).toContain(` ${v.label} `);
      expect(line).toContain(v.description);
    });
    expect(text).toMatch(/v5\.3\s+C53\s+v5\.3-v5\.12/);
    expect(text).toMatch(/v6\.3\s+G\s+v6\.3-v6\.19/);
    expect(text).toMatch(/mainline\s+H\s+v7\.0\+/);
    expect(text).toMatch(/morel-2018\s+A\s+unmerged/);
  });

  it('--json data round-trips through JSON', () => {
    const data = variants_json();
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    expect(data.map((d) => d.kernel_range)).toEqual(['unmerged', 'v4.12-v4.17', 'v4.18-v4.20', 'v5.0-v5.1', 'v5.2', 'v5.3-v5.12', 'v5.13-v5.19', 'unmerged', 'v6.0', 'v6.1', 'v6.2', 'v6.3-v6.19', 'v7.0+']);
    expect(data[6]?.features.io_todo.idle).toBe('mdev+freed');
  });
});
