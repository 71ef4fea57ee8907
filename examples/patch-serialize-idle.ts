// "vfio-ccw: Serialize FSM IDLE state with I/O completion" (2af7a834a435, v5.13) as a patch over
// v5.3: io_todo resets IDLE only when this run freed the channel program (cp_is_finished), not on
// any final interrupt. Only this commit, not the rest of its series (cp_init -EBUSY, IDLE in err_out).
//   npx vfio-ccw-sim race --variant ./examples/patch-serialize-idle.ts --scenario S12 --target I2
// (inside this repository the import points at ../src; a project that depends on the package
// imports the same names from 'vfio-ccw-sim').
import { derive } from '../src/index.ts';

export default derive('v5.3', {
  description: 'v5.3 + "Serialize FSM IDLE state with I/O completion"',
  commits: [{ id: '2af7a834a435', subject: 'vfio-ccw: Serialize FSM IDLE state with I/O completion' }],
  features: {
    // -	if (private->mdev && is_final)
    // +	if (private->mdev && cp_is_finished)
    io_todo: { idle: 'mdev+freed' },
  },
});
