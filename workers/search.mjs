// Thin piscina entry: register tsx, then export the search job.
import { register } from 'tsx/esm/api';
register();
const { search_job } = await import('../src/sched/job.ts');
export default search_job;
