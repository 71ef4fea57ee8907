// Preloaded by every actor worker of a run on a user's variant file (?file=<absolute path>):
// imports the file so that the worker's driver is built from the same variant as main's.
import { load_variant_file } from './load.ts';

const file = new URL(import.meta.url).searchParams.get('file');
if (file !== null) await load_variant_file(file, { check: false });
