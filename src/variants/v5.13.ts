// v5.13: "Serialize FSM IDLE state with I/O completion": IDLE only when io_todo freed the cp; err_out sets IDLE.
// Stated as v5.3 plus the changes below (spec/driver.md).
import { derive } from './derive.ts';
import { C, M } from './refs.ts';
import './v5.3.ts';

export default derive('v5.3', {
  name: 'v5.13',
  label: 'D',
  kernel: { from: 'v5.13', to: 'v5.19' },
  merged: true,
  models: 'v5.19',
  description: '"Serialize FSM IDLE state with I/O completion": IDLE only when io_todo freed the cp; err_out sets IDLE',
  changes: [
    'cp_init returns -EBUSY when the cp is already initialised',
    'fsm_io_request err_out sets IDLE; the write handler no longer resets IDLE',
    'io_todo sets IDLE only if it freed the cp in this run (cp_is_finished)',
    'v5.14: mdev driver probe/remove with a vfio group device; v5.15: open_device/close_device (first open, last close)',
    '≈v5.16: vfio_register_emulated_iommu_dev',
  ],
  commits: [C.serialize, C.emulated_iommu],
  mails: [M.D0, M.D1, M.D2, M.D3, M.D4, M.D5, M.D6, M.F3, M.F2],
  sources: ['C3-drv', 'C4-fsm', 'C11-ops'],
  inferred: [
    'Lifecycle modelled at v5.15–v5.19: open_device/close_device (per_fd_open = false) and the mdev driver. v5.13 and v5.14 still opened per FD like the v5.3 variant; that gap is left to the v5.3 variant.',
    '≈v5.16 (emulated-IOMMU registration) is approximate; its error path (state = IDLE, mdev = NULL) is part of mdev_create_sets_idle.',
  ],
  features: {
    err_out_sets_idle: true,
    write_resets_idle_on_error: false,
    io_todo: { idle: 'mdev+freed' },
    cp_rules: { init_busy_if_initialized: true },
    per_fd_open: false,
  },
});
