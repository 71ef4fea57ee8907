// The package's root directory, from the sources (src/runtime/) or from the build (dist/src/runtime/).
const HERE = import.meta.url;
export const IN_DIST = HERE.includes('/dist/src/runtime/');
export const ROOT = new URL(IN_DIST ? '../../../' : '../../', HERE);
