// Thin piscina entry started from the sources: the built search job if it matches them, else the sources through tsx.
import { load } from '../bin/dist.mjs';
const { search_job } = await load('src/sched/job.ts');
export default search_job;
